package renderer

import (
	"slices"

	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
)

// Object is one object of a ruled kind in a rewritten stream, with what a
// patch applied to the chart's rendering (flux-patches) must set for the
// post-renderer's outcome to hold.
type Object struct {
	APIVersion string
	Kind       GroupKind
	Key        ObjectKey
	// Chart is the object as the stream renders it, as far as the rules
	// and their policies read it (the rest is not parsed); Live the live
	// object, nil when the cluster has none.
	Chart, Live map[string]any
	// Pins are the fields to set, each at most once: every field the
	// renderer rewrote (in the report's order), then every field whose
	// policy pins it whatever the chart renders (Rule.PinsAlways) at the
	// live object's value, where the live object sets it.
	Pins []yamltext.Edit
}

// Objects returns the ruled objects of the stream in stream order (hooks
// are not ruled, so not among them).
func (res *Result) Objects() []Object {
	out := make([]Object, len(res.objects))
	for i, obj := range res.objects {
		out[i] = Object{APIVersion: obj.apiVersion, Kind: obj.kind, Key: obj.key, Chart: obj.value, Live: obj.live}
		if obj.live != nil {
			out[i].Pins = res.pins(obj)
		}
	}
	return out
}

// pins are obj's rewrites, then the live values of the fields whose rules
// pin them always. A field the API server fills in when it is missing
// (volumeMode) is pinned too, since a later chart may render another value.
func (res *Result) pins(obj *object) []yamltext.Edit {
	pins := slices.Clone(obj.edits)
	pinned := map[string]bool{}
	for _, edit := range pins {
		pinned[edit.Path.String()] = true
	}
	for _, f := range res.index.fields(obj) {
		if !f.rule.PinsAlways() || pinned[f.Path.String()] {
			continue
		}
		if value := f.Path.Get(obj.live); f.rule.IsSet(value) {
			pinned[f.Path.String()] = true
			pins = append(pins, yamltext.Edit{Item: obj.item, Path: f.Path, Value: value})
		}
	}
	return pins
}
