package interp

import (
	"go/scanner"
	"go/token"
	"strings"
)

// IsComplete tells whether code is ready to run ("complete"), needs more lines
// ("incomplete", with the indent of the next line), cannot become valid by adding
// lines ("invalid"), or cannot be told ("unknown"). It is decided by the Go
// scanner and parser: open brackets, raw strings and comments, and a line ending
// in an operator mean more is coming.
func (s *Session) IsComplete(code string) (status, indent string) {
	if _, ok, err := magicCell(code); ok && err != nil {
		return "invalid", ""
	}
	code = goPart(code)
	if strings.TrimSpace(code) == "" {
		return "complete", ""
	}
	if _, ok := helpTarget(code); ok {
		return "complete", ""
	}
	fset := token.NewFileSet()
	f := fset.AddFile("", -1, len(code))
	var sc scanner.Scanner
	var unterminated, bad bool
	sc.Init(f, []byte(code), func(pos token.Position, msg string) {
		switch {
		case strings.Contains(msg, "not terminated"):
			unterminated = true
		default:
			bad = true
		}
	}, scanner.ScanComments)
	depth := 0
	var last token.Token
	for {
		_, tok, lit := sc.Scan()
		if tok == token.EOF {
			break
		}
		switch tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
			if depth < 0 {
				return "invalid", ""
			}
		}
		if tok == token.SEMICOLON && lit == "\n" {
			continue // automatic
		}
		if tok != token.COMMENT {
			last = tok
		}
	}
	if unterminated {
		return "incomplete", ""
	}
	if depth > 0 {
		return "incomplete", strings.Repeat("\t", depth)
	}
	if bad {
		return "invalid", ""
	}
	if continues(last) {
		return "incomplete", "\t"
	}
	if _, err := parseCell(token.NewFileSet(), 0, code); err != nil {
		return "invalid", ""
	}
	return "complete", ""
}

// continues reports whether a line ending in tok goes on on the next line (Go
// inserts no semicolon after it).
func continues(tok token.Token) bool {
	switch tok {
	case token.COMMA, token.PERIOD, token.ASSIGN, token.DEFINE, token.COLON,
		token.ADD, token.SUB, token.MUL, token.QUO, token.REM, token.AND, token.OR, token.XOR,
		token.SHL, token.SHR, token.AND_NOT, token.LAND, token.LOR, token.EQL, token.NEQ,
		token.LSS, token.LEQ, token.GTR, token.GEQ, token.ARROW,
		token.ADD_ASSIGN, token.SUB_ASSIGN, token.MUL_ASSIGN, token.QUO_ASSIGN, token.REM_ASSIGN,
		token.AND_ASSIGN, token.OR_ASSIGN, token.XOR_ASSIGN, token.SHL_ASSIGN, token.SHR_ASSIGN,
		token.AND_NOT_ASSIGN:
		return true
	}
	return false
}
