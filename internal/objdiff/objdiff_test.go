package objdiff

import (
	"reflect"
	"testing"
)

func TestChanges(t *testing.T) {
	tests := []struct {
		name     string
		was, now any
		want     []Change
	}{
		{"equal", map[string]any{"a": map[string]any{"b": 1.0}}, map[string]any{"a": map[string]any{"b": 1.0}}, nil},
		{"nested value", map[string]any{"a": map[string]any{"b": 1.0, "c": "x"}}, map[string]any{"a": map[string]any{"b": 2.0, "c": "x"}},
			[]Change{{Path: "spec.a.b", Was: 1.0, Now: 2.0}}},
		{"added and removed keys, sorted", map[string]any{"z": "gone"}, map[string]any{"a": "new"},
			[]Change{{Path: "spec.a", Now: "new"}, {Path: "spec.z", Was: "gone"}}},
		{"absent is null", map[string]any{"a": nil}, map[string]any{}, nil},
		{"lists as a whole", map[string]any{"l": []any{"a", "b"}}, map[string]any{"l": []any{"a"}},
			[]Change{{Path: "spec.l", Was: []any{"a", "b"}, Now: []any{"a"}}}},
		{"map replaced by a scalar", map[string]any{"a": map[string]any{"b": 1.0}}, map[string]any{"a": "s"},
			[]Change{{Path: "spec.a", Was: map[string]any{"b": 1.0}, Now: "s"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Changes("spec", tt.was, tt.now); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Changes = %#v, want %#v", got, tt.want)
			}
		})
	}
}
