package cellio

import (
	"runtime"
	"strings"
)

// LanguageInfo is Jupyter's language_info: the language of the cells, as the kernel
// reports it in kernel_info_reply and a notebook records it in its metadata. The
// fields are in the order of their JSON names, so that the encoding has sorted keys as
// Jupyter writes notebooks.
type LanguageInfo struct {
	CodeMirrorMode    string `json:"codemirror_mode"`
	FileExtension     string `json:"file_extension"`
	MIMEType          string `json:"mimetype"`
	Name              string `json:"name"`
	NbconvertExporter string `json:"nbconvert_exporter"`
	PygmentsLexer     string `json:"pygments_lexer"`
	Version           string `json:"version"`
}

// Go returns the language_info of Go cells: the version is that of the Go toolchain
// that built the program, whose type checker and standard library the cells get.
func Go() LanguageInfo {
	return LanguageInfo{
		CodeMirrorMode:    "go",
		FileExtension:     ".go",
		MIMEType:          "text/x-go",
		Name:              "go",
		NbconvertExporter: "script",
		PygmentsLexer:     "go",
		Version:           strings.TrimPrefix(runtime.Version(), "go"),
	}
}

// Map returns l as the JSON object of a notebook's metadata.
func (l LanguageInfo) Map() map[string]any {
	return map[string]any{
		"codemirror_mode":    l.CodeMirrorMode,
		"file_extension":     l.FileExtension,
		"mimetype":           l.MIMEType,
		"name":               l.Name,
		"nbconvert_exporter": l.NbconvertExporter,
		"pygments_lexer":     l.PygmentsLexer,
		"version":            l.Version,
	}
}
