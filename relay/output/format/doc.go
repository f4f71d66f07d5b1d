// Package format renders floodgate records as lines of text in the three
// output formats of docs/output-format.md: rsyslog's traditional file format, RFC 5424
// and JSON.
//
// Append is the whole API (Options.Append the same with an output's
// choices): it appends one line, newline included, to a caller's buffer and allocates nothing, so an output can encode every
// record into a reused buffer on the hot path. JSON strings are escaped by
// hand rather than with encoding/json, which would allocate for every
// record and reflect over it.
//
// A verbatim message keeps its text exactly as received: rsyslog's #011
// escapes stay as they came. Two exceptions keep one record on one line,
// which every consumer of a log file relies on, and two more keep it safe
// and honest. In the traditional and
// RFC 5424 formats a single trailing line feed is dropped (rsyslog's
// drop-last-lf) and any other line feed or carriage return is written as
// rsyslog's own escape, #012 or #015. Unless Options.RawControl is set, the
// text formats also write every other control character (C0, DEL, and a
// C1 control encoded in UTF-8) as rsyslog does, '#' and three octal digits
// (TAB as #011, ESC as #033), so that a file shown on a terminal never runs
// a sender's escape sequences. And whatever the Options, a received
// "[floodgate" is written as "#133floodgate" in a text, and as
// "[_floodgate" in the structured data of a received RFC 5424 message, so
// that no sender can pass a line off as floodgate's own summary. In JSON
// the text is escaped as JSON requires, and a byte that is not part of valid UTF-8 is written as
// U+FFFD, the replacement character, as encoding/json does: JSON text must
// be UTF-8, and a consumer then decodes exactly the string encoding/json
// would have given it. Valid UTF-8 is never changed.
//
// Header fields come from untrusted input too. Where a format cannot hold a
// byte there (a space in a traditional or RFC 5424 host name, a ']' in a
// procid), that byte is written as '_', an empty value as "-", and RFC 5424
// fields are cut to the lengths RFC 5424 allows, so that every line parses
// back into the same number of fields.
//
// A summary record is written under the host and app of the messages it
// stands for. Traditional puts
//
//	[floodgate kind=K fp=F count=N first=T last=T]
//
// at the start of the text; RFC 5424 carries the same as the structured
// data element [floodgate@32473 ...], followed by the summary's extra
// fields, if any, in a second element [floodgate-fields@32473 ...]; JSON
// adds a "summary" object with kind, fp, count, first, last and then every
// extra field in order. JSON also carries a verbatim RFC 5424 message's
// MSGID and structured data, as "msgid" and "sd", when it has them: added
// fields, as the contract allows. Times are RFC 3339 in the time's own zone, with
// sub-second digits only when the time has them.
package format
