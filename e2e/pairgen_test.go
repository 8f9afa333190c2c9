package e2e

import (
	"math/rand/v2"
	"slices"
)

// The pair generator of the differential tests: a kind is a list of fields,
// each of which draws a live value and then a chart value for it. Charts
// render a field in many forms (the live value, another spelling of it,
// left out, null, the empty form, another value), and the forms are where
// a rule and the API server can read a value differently. A kind with
// constraints between its fields (ReadWriteOncePod alone, a class in one of
// two places) fixes them in its own fix function.

// absentValue marks a field left out of an object; nil is an explicit null.
type absentValue struct{}

var absent any = absentValue{}

// field is one ruled field of a kind.
type field struct {
	path []string
	// live draws a value the API server accepts on a live object, or absent.
	live func(r *rand.Rand) any
	// forms are the chart's ways to render the field beyond those every
	// field has (the live value, left out, null).
	forms forms
}

// forms are a field's kind-specific chart renderings.
type forms struct {
	empty      any                              // the empty form ("", [] or {}), or absent when there is none
	equivalent func(live any) any               // another spelling of the live value, or nil
	other      func(r *rand.Rand, live any) any // a different value
}

// chart draws how a chart renders a field whose live value is live: mostly
// the live value (so most pairs carry only a few differences), else one of
// the other forms.
func (f field) chart(r *rand.Rand, live any) any {
	switch n := r.IntN(100); {
	case n < 55:
		return live
	case n < 65 && f.forms.equivalent != nil && live != absent:
		return f.forms.equivalent(live)
	case n < 75:
		return absent
	case n < 82:
		return nil
	case n < 90 && f.forms.empty != absent:
		return f.forms.empty
	case n < 96:
		return f.forms.other(r, live)
	}
	return live
}

// kind generates objects of one kind from its fields.
type kind struct {
	base   func(name string) map[string]any // apiVersion, kind, metadata.name
	fields []field
	fix    func(r *rand.Rand, live map[string]any) // make a drawn live object valid
}

// live draws a live object.
func (k kind) live(r *rand.Rand, name string) map[string]any {
	obj := k.base(name)
	for _, f := range k.fields {
		set(obj, f.path, f.live(r))
	}
	if k.fix != nil {
		k.fix(r, obj)
	}
	return obj
}

// chart draws a chart's object for a live one (as the live object was
// drawn, before the API server filled anything in).
func (k kind) chart(r *rand.Rand, live map[string]any, name string) map[string]any {
	obj := k.base(name)
	for _, f := range k.fields {
		set(obj, f.path, f.chart(r, get(live, f.path)))
	}
	return obj
}

// oneOf returns a draw of one of values (absent included).
func oneOf(values ...any) func(r *rand.Rand) any {
	return func(r *rand.Rand) any { return clone(values[r.IntN(len(values))]) }
}

// otherThan draws one of values that differs from live.
func otherThan(values ...any) func(r *rand.Rand, live any) any {
	return func(r *rand.Rand, live any) any {
		for {
			if v := values[r.IntN(len(values))]; !equalJSON(v, live) {
				return clone(v)
			}
		}
	}
}

// get reads path from obj, or absent.
func get(obj map[string]any, path []string) any {
	var v any = obj
	for _, key := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return absent
		}
		if v, ok = m[key]; !ok {
			return absent
		}
	}
	return v
}

// set writes value at path, creating maps on the way; absent removes the
// field (and a map it leaves empty is kept: the API server reads an empty
// metadata.annotations as none).
func set(obj map[string]any, path []string, value any) {
	for _, key := range path[:len(path)-1] {
		next, ok := obj[key].(map[string]any)
		if !ok {
			if value == absent {
				return
			}
			next = map[string]any{}
			obj[key] = next
		}
		obj = next
	}
	if last := path[len(path)-1]; value == absent {
		delete(obj, last)
	} else {
		obj[last] = clone(value)
	}
}

// clone deep-copies a value of maps, lists and scalars, so a live value a
// chart reuses is never shared with it.
func clone(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, child := range t {
			out[k] = clone(child)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, child := range t {
			out[i] = clone(child)
		}
		return out
	}
	return v
}

func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !equalJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		return ok && slices.EqualFunc(x, y, equalJSON)
	}
	return a == b
}
