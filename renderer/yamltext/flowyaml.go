package yamltext

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// isFlowStart reports whether a value opens a flow collection: of those,
// parseBlockYAML reads the ones that close on their line, as charts render
// labels and short lists.
func isFlowStart(c byte) bool { return c == '{' || c == '[' }

// flowReader reads a flow collection ({a: b, c: [d, e]}) within one line:
// plain keys, plain or quoted scalars, nested collections.
type flowReader struct {
	text      string
	pos       int
	line, col int // position of text[0]
	*arena
}

func (f *flowReader) node() (*yaml.Node, bool) {
	switch f.peek() {
	case '{':
		return f.collection(yaml.MappingNode, "!!map", '}')
	case '[':
		return f.collection(yaml.SequenceNode, "!!seq", ']')
	}
	return f.scalar()
}

func (f *flowReader) collection(kind yaml.Kind, tag string, end byte) (*yaml.Node, bool) {
	n := f.newNode(kind, yaml.FlowStyle, tag, "", f.line, f.col+f.pos+1)
	f.pos++
	f.spaces()
	if f.peek() == end {
		f.pos++
		return n, true
	}
	base := len(f.stack)
	for {
		if kind == yaml.MappingNode {
			key, ok := f.scalar()
			if !ok || key.Style != 0 || !strings.HasPrefix(f.text[f.pos:], ": ") {
				return nil, false
			}
			f.pos += 2
			f.spaces()
			f.keep(key)
		}
		value, ok := f.node()
		if !ok {
			return nil, false
		}
		f.keep(value)
		f.spaces()
		switch f.peek() {
		case ',':
			f.pos++
			f.spaces()
			if f.peek() == end {
				return nil, false // a trailing comma
			}
		case end:
			f.pos++
			n.Content = f.content(base)
			return n, true
		default:
			return nil, false
		}
	}
}

// scalar reads a quoted scalar, or a plain one up to the next flow
// indicator; a colon or hash inside a plain scalar is refused.
func (f *flowReader) scalar() (*yaml.Node, bool) {
	start, end := f.pos, f.pos
	switch f.peek() {
	case '\'', '"':
		quote := f.peek()
		for end = start + 1; end < len(f.text); end++ {
			if f.text[end] != quote {
				continue
			}
			if quote == '\'' && end+1 < len(f.text) && f.text[end+1] == '\'' {
				end++ // a doubled quote
				continue
			}
			break
		}
		if end == len(f.text) {
			return nil, false
		}
		f.pos = end + 1
		style := yaml.DoubleQuotedStyle
		if quote == '\'' {
			style = yaml.SingleQuotedStyle
		}
		return f.quotedScalar(f.text[start:f.pos], quote, style, f.line, f.col+start)
	}
	for end < len(f.text) && strings.IndexByte(",[]{}:#", f.text[end]) < 0 {
		end++
	}
	plain := strings.TrimRight(f.text[start:end], " ")
	f.pos = start + len(plain)
	return f.plainScalar(plain, f.line, f.col+start)
}

func (f *flowReader) peek() byte {
	if f.pos < len(f.text) {
		return f.text[f.pos]
	}
	return 0
}

func (f *flowReader) spaces() {
	for f.peek() == ' ' {
		f.pos++
	}
}
