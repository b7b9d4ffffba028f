package index

// Reason says why an audio file's tags were not read.
type Reason uint8

const (
	ReasonNone      Reason = iota // tagged, or not audio
	ReasonNoTags                  // a known format without a tag block
	ReasonNoReader                // a format whose tags we do not read (MIDI)
	ReasonUnknown                 // content of no audio format we know
	ReasonMalformed               // a tag block that could not be parsed
	ReasonTooLarge                // tags larger than the read limit
	ReasonIO                      // the origin failed the read; read again next scan
	ReasonTimeout                 // no result within the per-file timeout; read again next scan
	ReasonPanic                   // the tag reader panicked
	nReasons
)

var reasonNames = [nReasons]string{
	ReasonNone: "none", ReasonNoTags: "no_tags", ReasonNoReader: "no_reader", ReasonUnknown: "unknown_format",
	ReasonMalformed: "malformed", ReasonTooLarge: "too_large", ReasonIO: "io_error",
	ReasonTimeout: "timeout", ReasonPanic: "panic",
}

// String is the reason as a metric label and log field: "no_tags", ...
func (r Reason) String() string {
	if r < nReasons {
		return reasonNames[r]
	}
	return "unknown"
}
