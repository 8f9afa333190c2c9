package flux

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/pvc-guard/pvc-guard/renderer"
	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
)

// patchOf is the patch that sets obj's pins. Pins of mapping fields alone
// make a strategic-merge patch, which reads as the object it pins. A pin
// inside a list item (a StatefulSet's volumeClaimTemplates) needs a JSON
// 6902 patch: such lists have no merge key in their API (a strategic
// merge would replace the whole list, and with it what the chart may still
// change), so a JSON patch addresses the item by its index in this stream,
// after a test of its name: a later chart that reorders the items makes
// kustomize, and so the Flux upgrade, fail instead of patching another
// item.
func patchOf(obj renderer.Object) (string, error) {
	if slices.ContainsFunc(obj.Pins, func(pin yamltext.Edit) bool { return hasListStep(pin.Path) }) {
		return jsonPatch(obj)
	}
	return mergePatch(obj)
}

func hasListStep(path yamltext.Path) bool {
	_, keysOnly := path.Keys()
	return !keysOnly
}

// mergePatch is a strategic-merge patch setting each pin; a removed field
// is written as null, which removes it. A mapping value carries the
// directive $patch: replace, since a merge would keep the keys the chart
// adds to it (a selector's matchLabels), where the post-renderer writes
// the live value whole.
func mergePatch(obj renderer.Object) (string, error) {
	patch := map[string]any{
		"apiVersion": obj.APIVersion,
		"kind":       obj.Kind.Kind,
		"metadata":   map[string]any{"name": obj.Key.Name},
	}
	for _, pin := range obj.Pins {
		keys, _ := pin.Path.Keys()
		var value any
		if !pin.Remove {
			value = pin.Value
		}
		if m, ok := value.(map[string]any); ok {
			value = maps.Clone(m)
			value.(map[string]any)["$patch"] = "replace"
		}
		setPath(patch, keys, value)
	}
	return encode(patch)
}

// setPath sets value at path, creating the mappings on the way.
func setPath(obj map[string]any, path []string, value any) {
	for _, key := range path[:len(path)-1] {
		next, ok := obj[key].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[key] = next
		}
		obj = next
	}
	obj[path[len(path)-1]] = value
}

// jsonPatch is a JSON 6902 patch setting each pin of obj. The operations
// are worked out on a copy of the chart's object, updated as each one
// applies, so every index and every parent they name is the one the
// operation meets when kustomize applies them in order: a pin under a
// mapping the chart leaves out adds the mapping, and an item a pin removes
// moves the items after it. A removed mapping field is set to null, which
// the API server reads as absent, so that the patch still applies to a
// later chart that leaves the field out.
func jsonPatch(obj renderer.Object) (string, error) {
	var p jsonPatcher
	var doc any = deepCopy(obj.Chart)
	// By path, so that a reviewer finds an item's operations together,
	// after its one test.
	pins := slices.Clone(obj.Pins)
	slices.SortStableFunc(pins, func(a, b yamltext.Edit) int { return strings.Compare(a.Path.String(), b.Path.String()) })
	for _, pin := range pins {
		var err error
		if doc, err = p.set(doc, pin.Path, "", pin); err != nil {
			return "", fmt.Errorf("%s: %w", pin.Path, err)
		}
	}
	return encode(p.ops)
}

// jsonPatcher collects the operations of one patch.
type jsonPatcher struct {
	ops []map[string]any
	// tested holds the item tests made ("pointer=name") since the last
	// removal of an item.
	tested map[string]bool
}

func (p *jsonPatcher) op(op, pointer string, value ...any) {
	o := map[string]any{"op": op, "path": pointer}
	if len(value) > 0 {
		o["value"] = value[0]
	}
	p.ops = append(p.ops, o)
}

// set applies pin to v, whose pointer is the one given, from its step
// rest[0] on, and returns v as the operations leave it.
func (p *jsonPatcher) set(v any, rest yamltext.Path, pointer string, pin yamltext.Edit) (any, error) {
	step, last := rest[0], len(rest) == 1
	if !step.IsList() {
		m, ok := v.(map[string]any)
		if !ok {
			return v, fmt.Errorf("the chart's object has no mapping at %q", pointer)
		}
		pointer += "/" + escape(step.Key)
		child, found := m[step.Key]
		switch {
		case last && pin.Remove:
			m[step.Key] = nil
			p.op("add", pointer, nil)
			return m, nil
		case pin.Remove && (!found || !holds(child, rest[1])):
			return m, nil // nothing there to remove
		case last || !found || !holds(child, rest[1]):
			value := nested(rest[1:], pin.Value)
			m[step.Key] = deepCopy(value)
			p.op("add", pointer, value)
			return m, nil
		}
		next, err := p.set(child, rest[1:], pointer, pin)
		m[step.Key] = next
		return m, err
	}
	items := v.([]any) // holds checked it
	i := slices.IndexFunc(items, func(item any) bool { return named(item, step) })
	switch {
	case i < 0 && pin.Remove:
		return items, nil
	case i < 0 && !last:
		return items, fmt.Errorf("the chart's object has no item %s at %q", step.Item, pointer)
	case i < 0:
		p.op("add", pointer+"/-", pin.Value)
		return append(items, deepCopy(pin.Value)), nil
	}
	pointer += "/" + strconv.Itoa(i)
	if test := pointer + "=" + step.Item; !p.tested[test] {
		if p.tested == nil {
			p.tested = map[string]bool{}
		}
		p.tested[test] = true
		p.op("test", pointer+"/"+pointerOf(step.ItemKey), step.Item)
	}
	switch {
	case last && pin.Remove:
		p.op("remove", pointer)
		clear(p.tested) // the items after it moved
		return slices.Delete(items, i, i+1), nil
	case last:
		p.op("replace", pointer, pin.Value)
		items[i] = deepCopy(pin.Value)
		return items, nil
	}
	next, err := p.set(items[i], rest[1:], pointer, pin)
	items[i] = next
	return items, err
}

// holds reports whether v is what step steps into: a mapping, or a list.
func holds(v any, step yamltext.Step) bool {
	if step.IsList() {
		_, ok := v.([]any)
		return ok
	}
	_, ok := v.(map[string]any)
	return ok
}

// named reports whether a list step picks item.
func named(item any, step yamltext.Step) bool {
	name, ok := yamltext.ValueAt(item, step.ItemKey).(string)
	return ok && name == step.Item
}

// nested is value under the steps of rest, built from nothing: mappings
// for keys, and for a list step a list of the one item it names.
func nested(rest yamltext.Path, value any) any {
	if len(rest) == 0 {
		return value
	}
	inner := nested(rest[1:], value)
	if !rest[0].IsList() {
		return map[string]any{rest[0].Key: inner}
	}
	if len(rest) == 1 {
		return []any{value}
	}
	item, _ := inner.(map[string]any)
	if item == nil {
		item = map[string]any{}
	}
	setPath(item, rest[0].ItemKey, rest[0].Item)
	return []any{item}
}

// escape and pointerOf write JSON pointers (RFC 6901).
func escape(key string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(key)
}

func pointerOf(keys []string) string {
	escaped := make([]string, len(keys))
	for i, k := range keys {
		escaped[i] = escape(k)
	}
	return strings.Join(escaped, "/")
}

// deepCopy copies the mappings and lists of a decoded object, so that the
// working copy never shares one with an operation or the live object;
// scalars are shared, as nothing changes them.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, child := range t {
			out[k] = deepCopy(child)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, child := range t {
			out[i] = deepCopy(child)
		}
		return out
	}
	return v
}

func encode(patch any) (string, error) {
	data, err := yaml.Marshal(patch)
	if err != nil {
		return "", fmt.Errorf("encoding: %w", err)
	}
	return string(data), nil
}
