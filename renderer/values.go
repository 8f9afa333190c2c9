package renderer

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// fieldPath renders a path as metadata.annotations["a.b/c"].
func fieldPath(path []string) string {
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

// mappingValue returns the value node under key in a mapping node, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
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
		n = mappingValue(n, key)
	}
	return n
}

// decodeNode turns a YAML node into plain Go values (maps, slices, scalars)
// exactly as the YAML library decodes into an interface. Strings, sequences
// and mappings with distinct string keys, nearly all of a claim, are
// converted here, several times faster; every other node goes to the
// library.
func decodeNode(n *yaml.Node) (any, error) {
	switch {
	case n == nil:
		return nil, nil
	case n.Kind == yaml.ScalarNode && n.Tag == "!!str":
		return n.Value, nil
	case n.Kind == yaml.SequenceNode && n.Tag == "!!seq":
		items := make([]any, len(n.Content))
		for i, item := range n.Content {
			var err error
			if items[i], err = decodeNode(item); err != nil {
				return nil, err
			}
		}
		return items, nil
	case n.Kind == yaml.MappingNode && n.Tag == "!!map":
		if m := stringKeyedMap(n); m != nil {
			for i := 0; i+1 < len(n.Content); i += 2 {
				value, err := decodeNode(n.Content[i+1])
				if err != nil {
					return nil, err
				}
				m[n.Content[i].Value] = value
			}
			return m, nil
		}
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// stringKeyedMap returns an empty map holding a mapping's keys when they
// are plain strings (no merge keys, no aliases) with no key twice, and nil
// otherwise. The keys go in as they are checked, so no second set is built.
func stringKeyedMap(n *yaml.Node) map[string]any {
	m := make(map[string]any, len(n.Content)/2)
	for i := 0; i < len(n.Content); i += 2 {
		key := n.Content[i]
		if _, twice := m[key.Value]; twice || key.Kind != yaml.ScalarNode || key.Tag != "!!str" {
			return nil
		}
		m[key.Value] = nil
	}
	return m
}

// valueAt follows path through nested maps of plain Go values.
func valueAt(v any, path []string) any {
	for _, key := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[key]
	}
	return v
}

// equalValues compares two values the way the API server compares decoded
// objects: the same keys and items, scalars by their text, and with quantity
// set, leaves as resource quantities. Values come from canonical, which
// already dropped what the API types do not hold.
func equalValues(a, b any, quantity bool) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for key, value := range x {
			if other, ok := y[key]; !ok || !equalValues(value, other, quantity) {
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
			if !equalValues(x[i], y[i], quantity) {
				return false
			}
		}
		return true
	}
	switch b.(type) {
	case map[string]any, []any:
		return false
	}
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if quantity {
		if c, ok := compareQuantities(a, b); ok {
			return c == 0
		}
	}
	return scalarText(a) == scalarText(b)
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
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
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

// compareQuantities compares two scalars as resource quantities; ok is false
// when either is not a valid quantity.
func compareQuantities(a, b any) (cmp int, ok bool) {
	qa, errA := resource.ParseQuantity(scalarText(a))
	qb, errB := resource.ParseQuantity(scalarText(b))
	if errA != nil || errB != nil {
		return 0, false
	}
	return qa.Cmp(qb), true
}

func scalarText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// FormatValue renders a field value compactly for messages: JSON, or
// "<unset>" for an absent (or null) value.
func FormatValue(v any) string {
	if v == nil {
		return "<unset>"
	}
	out, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(out)
}
