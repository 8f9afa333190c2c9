package renderer

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
)

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
