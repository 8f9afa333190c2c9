package yamltext

import (
	"fmt"
	"reflect"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// FieldPath renders a path as metadata.annotations["a.b/c"].
func FieldPath(path []string) string {
	var b strings.Builder
	for i, key := range path {
		switch {
		case strings.ContainsAny(key, "./"):
			fmt.Fprintf(&b, "[%q]", key)
		case i > 0:
			b.WriteString("." + key)
		default:
			b.WriteString(key)
		}
	}
	return b.String()
}

// MappingValue returns the value node under key in a mapping node, or nil.
func MappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	if i := keyIndex(m, key); i >= 0 {
		return m.Content[i+1]
	}
	return nil
}

// keyIndex returns the index of key's node in a mapping's Content, or -1.
func keyIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// nodeAt follows path through nested mappings from n.
func nodeAt(n *yaml.Node, path []string) *yaml.Node {
	for _, key := range path {
		n = MappingValue(n, key)
	}
	return n
}

// Decode turns a YAML node into plain Go values (maps, slices, scalars)
// exactly as the YAML library decodes into an interface. Strings, sequences
// and mappings with distinct string keys, nearly all of a claim, are
// converted here, several times faster; every other node goes to the
// library.
func Decode(n *yaml.Node) (any, error) {
	switch {
	case n == nil:
		return nil, nil
	case n.Kind == yaml.ScalarNode && n.Tag == "!!str":
		return n.Value, nil
	case n.Kind == yaml.SequenceNode && n.Tag == "!!seq":
		items := make([]any, len(n.Content))
		for i, item := range n.Content {
			var err error
			if items[i], err = Decode(item); err != nil {
				return nil, err
			}
		}
		return items, nil
	case n.Kind == yaml.MappingNode && n.Tag == "!!map" && stringKeyed(n):
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i+1] == unreached {
				continue
			}
			value, err := Decode(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = value
		}
		return m, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// stringKeyed reports whether a mapping's keys are plain strings (no merge
// keys, no aliases) with no key twice. An object's mappings hold a few keys,
// which are compared pairwise: cheaper than a set, which larger ones get.
func stringKeyed(n *yaml.Node) bool {
	const pairwise = 16
	var seen map[string]bool
	if len(n.Content)/2 > pairwise {
		seen = make(map[string]bool, len(n.Content)/2)
	}
	for i := 0; i < len(n.Content); i += 2 {
		key := n.Content[i]
		if key.Kind != yaml.ScalarNode || key.Tag != "!!str" {
			return false
		}
		if seen != nil {
			if seen[key.Value] {
				return false
			}
			seen[key.Value] = true
			continue
		}
		for j := 0; j < i; j += 2 {
			if n.Content[j].Value == key.Value {
				return false
			}
		}
	}
	return true
}

// ValueAt follows path through nested maps of plain Go values.
func ValueAt(v any, path []string) any {
	for _, key := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[key]
	}
	return v
}

// sameValue is deep equality of decoded values in which numbers compare by
// value: an int64 from the live object equals the int read back from YAML.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for key, value := range x {
			if other, ok := y[key]; !ok || !sameValue(value, other) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	if x, ok := Number(a); ok {
		y, ok := Number(b)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

func Number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
