package sqlserver

import (
	"fmt"
	"strings"
)

// lex is a small T-SQL tokenizer for tests: it decodes every [bracketed]
// identifier and N'string' literal and fails on any that is unterminated or
// on unbalanced parentheses, which is how a quoting bug shows up.
func lex(s string) (idents, literals map[string]bool, err error) {
	idents, literals = map[string]bool{}, map[string]bool{}
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '-' && strings.HasPrefix(s[i:], "--"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '[':
			var b strings.Builder
			j := i + 1
			for ; ; j++ {
				if j >= len(s) {
					return nil, nil, fmt.Errorf("unterminated identifier at byte %d", i)
				}
				if s[j] == ']' {
					if j+1 < len(s) && s[j+1] == ']' {
						b.WriteByte(']')
						j++
						continue
					}
					break
				}
				b.WriteByte(s[j])
			}
			idents[b.String()] = true
			i = j
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for ; ; j++ {
				if j >= len(s) {
					return nil, nil, fmt.Errorf("unterminated literal at byte %d", i)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j++
						continue
					}
					break
				}
				b.WriteByte(s[j])
			}
			literals[b.String()] = true
			i = j
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return nil, nil, fmt.Errorf("unbalanced ')' at byte %d", i)
			}
		}
	}
	if depth != 0 {
		return nil, nil, fmt.Errorf("%d unclosed '('", depth)
	}
	return idents, literals, nil
}

func lexCheck(s string) error {
	_, _, err := lex(s)
	return err
}
