// Package parse turns one framed syslog message into a floodgate.Message.
//
// A frame is what the relay's framing cut out of a stream or a datagram: one
// RFC 5424 message, one RFC 3164 message with its <PRI>, or one line of
// rsyslog's traditional file format (`Sep  9 10:02:37 host app[pid]: text`,
// as in /var/log/syslog, replayed from captures). Parsing never fails: a
// frame that fits no format is kept whole as an Unparsed message with host
// and app "-", so that nothing a flood sends is lost.
//
// The formats are parsed with the single-message machines of
// github.com/leodido/go-syslog/v4 in best-effort mode, with the corrections
// the relay needs around them: the year of an RFC 3164 timestamp is the
// latest that puts it at most MaxSkew (a day) after the receive time, so a
// relay running over New Year gets Dec 31 right and a line is never dated
// in the future, such timestamps are read in Options.Location, and the
// text is always a suffix of the frame as received (rsyslog's #011 escapes,
// raw tabs, control bytes and invalid UTF-8 stay as they came). Where the
// RFC 3164 machine reports fields that do not line up with the frame (a tag
// with brackets but no colon, a text it could not finish), Parse keeps only
// the fields it finds in the frame in order and takes the rest as text.
//
// The machines cost over a microsecond and 7 to 16 allocations per message,
// which a flood of a million messages a second cannot afford. So the plain,
// unambiguous shapes a flood consists of (traditional lines, RFC 3164 with
// or without a hostname, RFC 5424 with well-formed structured data) go
// through hand-written scanners first, which locate the fields without
// allocating and leave everything unusual to the machines. On what they
// accept they give exactly the machines' answer: differential tests and
// fuzz targets (TestFastPathAgrees, FuzzFastPath, FuzzFastPath5424) hold
// them to it. Host, app, procid, msgid and structured data strings are
// interned per Parser, because a flood repeats the same few of them, so a
// typical message allocates only its text.
//
// Choices where the formats leave room:
//
//   - A line without <PRI> (traditional), and an Unparsed frame, is
//     user.notice, as rsyslog assumes for input without a PRI.
//   - A PRI over 191 (or with leading zeros, or unclosed) is not syslog:
//     the frame is Unparsed, kept whole. Guessing a facility from a corrupt
//     PRI would misfile the message; keeping it whole loses nothing.
//   - An RFC 3164 tag must end in ": " (colon and space), as go-syslog's
//     grammar has it; `app[12] hello` or `app:hello` has app "-" and the
//     whole rest after the hostname as text.
//   - An RFC 3164 message without a hostname (journald's forwarding format
//     `<13>Nov 27 10:00:00 app[12]: hello`) has host "-".
//   - RFC 3339 stamps in place of the RFC 3164 Stamp (rsyslog's
//     high-precision file and forward formats) are accepted and keep their
//     own year and offset.
//   - An RFC 3164 frame with a valid PRI but no readable timestamp keeps
//     its PRI, the receive time, and everything after the PRI as text.
//   - An RFC 5424 message the machine can read only partly keeps the
//     fields it found and everything after the PRI as text.
//   - Control bytes (other than tab) are valid nowhere in RFC 3164, and
//     go-syslog's machine stops at them; the machine reads a copy with '?'
//     in their place, and the fields it finds are checked against the frame
//     itself, so a line with an ANSI colour code keeps its host and app, and
//     its text keeps the bytes as they came.
package parse
