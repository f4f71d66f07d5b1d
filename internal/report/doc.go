// Package report renders what a replay found in a capture, for
// `floodgate report`: one self-contained HTML page (inline CSS, charts
// drawn as inline SVG, no script and no fetch, so it opens offline and
// from an attachment), or the same numbers as JSON or plain text.
//
// The page answers the questions of an incident in the order they are
// asked. First a headline: how much came in, over what time, what
// floodgate would have written and how much smaller that is. Then the
// findings, the few things to look at first: the biggest flood (the
// pattern with the most bytes, cycles aside), every restart loop, then
// the next biggest patterns. Then a timeline of messages/s and bytes/s
// of the busiest sources, stacked, on a linear or a log scale (radio
// buttons and CSS pick one of four charts drawn in advance); the floods
// floodgate's own flood records tell of; the top patterns by messages and by bytes with template, exemplar, count, first
// and last; the restart loops; and every source.
//
// Build turns a relay.Report into a View, the one model every format
// renders, so the three agree by construction.
package report
