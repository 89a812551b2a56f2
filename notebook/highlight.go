package notebook

import (
	"go/scanner"
	"go/token"
	"html"
	"strings"
)

// Token classes of the highlighted HTML, named as Pygments names them (so the page's
// colours read like Jupyter's): k keyword, kt predeclared type, nb predeclared function,
// kc predeclared constant, s string, m number, c comment.
var predeclared = map[string]string{
	"bool": "kt", "byte": "kt", "complex64": "kt", "complex128": "kt", "error": "kt",
	"float32": "kt", "float64": "kt", "int": "kt", "int8": "kt", "int16": "kt",
	"int32": "kt", "int64": "kt", "rune": "kt", "string": "kt", "uint": "kt",
	"uint8": "kt", "uint16": "kt", "uint32": "kt", "uint64": "kt", "uintptr": "kt",
	"any": "kt", "comparable": "kt",
	"append": "nb", "cap": "nb", "clear": "nb", "close": "nb", "complex": "nb",
	"copy": "nb", "delete": "nb", "imag": "nb", "len": "nb", "make": "nb", "max": "nb",
	"min": "nb", "new": "nb", "panic": "nb", "print": "nb", "println": "nb",
	"real": "nb", "recover": "nb",
	"true": "kc", "false": "kc", "nil": "kc", "iota": "kc",
}

// HighlightGo returns Go source as HTML with its tokens in <span class=…> elements,
// tokenized by go/scanner. Text that is not Go (a syntax error, a stray character)
// is kept and escaped, so every input round-trips: removing the tags and unescaping
// gives src back.
func HighlightGo(src string) string {
	var b strings.Builder
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(src))
	var s scanner.Scanner
	s.Init(file, []byte(src), func(token.Position, string) {}, scanner.ScanComments)
	last := 0
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.SEMICOLON && lit != ";" {
			continue // inserted by the scanner at a line end, not in the source
		}
		off := file.Offset(pos)
		if off < last || off > len(src) {
			continue
		}
		end := tokenEnd(src, off, tok, lit)
		b.WriteString(html.EscapeString(src[last:off]))
		text := html.EscapeString(src[off:end])
		class := ""
		switch {
		case tok.IsKeyword():
			class = "k"
		case tok == token.IDENT:
			class = predeclared[lit]
		case tok == token.STRING || tok == token.CHAR:
			class = "s"
		case tok == token.INT || tok == token.FLOAT || tok == token.IMAG:
			class = "m"
		case tok == token.COMMENT:
			class = "c"
		}
		if class != "" {
			b.WriteString(`<span class="` + class + `">` + text + `</span>`)
		} else {
			b.WriteString(text)
		}
		last = end
	}
	b.WriteString(html.EscapeString(src[last:]))
	return b.String()
}

// tokenEnd returns the offset just past the token at off. The scanner's literal is
// not always the source text (it drops carriage returns from comments and raw
// strings), so those are measured in the source.
func tokenEnd(src string, off int, tok token.Token, lit string) int {
	end := len(src)
	switch {
	case tok == token.COMMENT && strings.HasPrefix(src[off:], "//"):
		if i := strings.IndexByte(src[off:], '\n'); i >= 0 {
			end = off + i
		}
	case tok == token.COMMENT:
		if i := strings.Index(src[off+2:], "*/"); i >= 0 {
			end = off + 2 + i + 2
		}
	case tok == token.STRING && strings.HasPrefix(src[off:], "`"):
		if i := strings.IndexByte(src[off+1:], '`'); i >= 0 {
			end = off + 1 + i + 1
		}
	case lit != "":
		end = off + len(lit)
	default:
		end = off + len(tok.String())
	}
	if end > len(src) {
		end = len(src)
	}
	if end < off {
		end = off
	}
	return end
}
