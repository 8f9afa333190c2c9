package e2e

import (
	"math/rand/v2"
	"slices"

	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
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
	// items, when set, draws the chart's list in place of forms.
	items *items
}

// forms are a field's kind-specific chart renderings.
type forms struct {
	// required fields are always rendered, as the live value or another
	// one: a chart without them fails on its own (a pod's containers).
	required   bool
	empty      any                              // the empty form ("", [] or {}), or absent when there is none
	equivalent func(live any) any               // another spelling of the live value, or nil
	other      func(r *rand.Rand, live any) any // a different value
}

// chart draws how a chart renders a field whose live value is live: mostly
// the live value (so most pairs carry only a few differences), else one of
// the other forms.
func (f field) chart(r *rand.Rand, live any) any {
	if f.items != nil {
		return f.items.chart(r, live)
	}
	switch n := r.IntN(100); {
	case n < 55:
		return live
	case n < 65 && f.forms.equivalent != nil && live != absent:
		return f.forms.equivalent(live)
	case n < 90 && f.forms.required:
		return live
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

// items is a list of objects named by metadata.name, each drawn by kind.
type items struct {
	kind  kind
	names []string // the names an item may have, in the order live lists them
}

// listOf is a field that holds a list of named objects of kind k.
func listOf(path []string, k kind, names ...string) field {
	it := &items{kind: k, names: names}
	return field{path: path, live: it.live, items: it}
}

// live draws each named item with even odds, and absent for none.
func (it *items) live(r *rand.Rand) any {
	var out []any
	for _, name := range it.names {
		if r.IntN(2) == 0 {
			out = append(out, it.kind.live(r, name))
		}
	}
	if out == nil {
		return absent
	}
	return out
}

// chart draws the chart's list for a live one: each live item as it is or
// drawn by its kind, sometimes an item left out or one added, the items in
// another order, or the list left out, null or empty.
func (it *items) chart(r *rand.Rand, live any) any {
	switch n := r.IntN(100); {
	case n < 3:
		return absent
	case n < 5:
		return nil
	case n < 7:
		return []any{}
	}
	liveItems, _ := live.([]any)
	var out []any
	for _, name := range it.names {
		item := slices.IndexFunc(liveItems, func(item any) bool { return get(item.(map[string]any), []string{"metadata", "name"}) == name })
		switch {
		case item < 0 && r.IntN(100) < 8:
			out = append(out, it.kind.live(r, name))
		case item < 0:
		case r.IntN(100) < 6:
		case r.IntN(2) == 0: // as rendered before, the common case
			out = append(out, clone(liveItems[item]))
		default:
			out = append(out, it.kind.chart(r, liveItems[item].(map[string]any), name))
		}
	}
	if len(out) > 1 && r.IntN(100) < 5 {
		slices.Reverse(out)
	}
	if out == nil {
		return absent
	}
	return out
}

// kind generates objects of one kind from its fields.
type kind struct {
	base   func(name string) map[string]any // apiVersion, kind, metadata.name
	fields []field
	fix    func(r *rand.Rand, live map[string]any) // make a drawn live object valid
	// fixChart, if set, makes a chart's object one its own install would
	// accept where fields depend on each other beyond the ruled ones.
	fixChart func(chart map[string]any)
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
	if k.fixChart != nil {
		k.fixChart(obj)
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

// lay writes the chart's value at p over obj, or removes the field where
// the chart has none, and returns obj. A list step picks an item by name;
// at the end of p it adds, replaces or removes the item.
func lay(obj, chart any, p yamltext.Path) any {
	value := absent
	if found := p.Resolve(nil, chart)[0]; found.Keys[0] {
		value = clone(found.Values[0])
	}
	return setPath(obj, p, value)
}

func setPath(obj any, p yamltext.Path, value any) any {
	if len(p) == 0 {
		return value
	}
	s := p[0]
	if s.IsList() {
		items, _ := obj.([]any)
		i := slices.IndexFunc(items, func(item any) bool { m, _ := item.(map[string]any); return get(m, s.ItemKey) == s.Item })
		switch {
		case i < 0 && len(p) == 1 && value != absent:
			return append(items, value)
		case i < 0:
			return obj
		case len(p) == 1 && value == absent:
			return slices.Delete(items, i, i+1)
		}
		items[i] = setPath(items[i], p[1:], value)
		return items
	}
	m, ok := obj.(map[string]any)
	child, found := m[s.Key]
	switch {
	case value == absent && !found:
		return obj
	case len(p) == 1 && value == absent:
		delete(m, s.Key)
		return m
	case !ok:
		m = map[string]any{}
	}
	m[s.Key] = setPath(child, p[1:], value)
	return m
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
