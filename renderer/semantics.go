package renderer

import (
	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
	"maps"
	"slices"
)

// ValueKind is the Go type a ruled field has in the Kubernetes API. The API
// server compares claims after decoding them into those types, so the type
// decides which written forms mean the same: a string field left out and one
// set to "" are equal, but a *string field set to "" holds a value that null
// and an absent field do not.
type ValueKind string

const (
	// StringValue is a string field: null and "" both mean not set.
	StringValue ValueKind = "string"
	// AnnotationValue is an annotation: null and "" compare equal to an
	// absent key, as ValidateImmutableAnnotation compares, but a key set to
	// either still counts as present where the API server looks a class up
	// (the beta storage-class annotation then names the class "").
	AnnotationValue ValueKind = "annotation"
	// OptionalStringValue is a *string field: null means not set, "" is a
	// value (storageClassName: "" binds statically, without a class).
	OptionalStringValue ValueKind = "optional-string"
	// ListValue is a list field: null and [] both mean not set.
	ListValue ValueKind = "list"
	// MapValue is a map field (resource lists): null and {} both mean not set.
	MapValue ValueKind = "map"
	// LabelSelectorValue is a *LabelSelector: null means not set, while {}
	// is a selector (one that matches every volume).
	LabelSelectorValue ValueKind = "label-selector"
	// LocalObjectReferenceValue is a *TypedLocalObjectReference (dataSource).
	LocalObjectReferenceValue ValueKind = "typed-local-object-reference"
	// ObjectReferenceValue is a *TypedObjectReference (dataSourceRef).
	ObjectReferenceValue ValueKind = "typed-object-reference"
	// RoleRefValue is a RoleRef: a struct of three string fields.
	RoleRefValue ValueKind = "role-ref"
	// OptionalValue is a pointer to a number or a boolean (*int32): only
	// null means not set, 0 and false are values.
	OptionalValue ValueKind = "optional"
	// ObjectValue is a pointer to a struct whose fields are plain values
	// (a volume source, nodeAffinity, claimRef): null means not set, and
	// inside it "", 0, false, null, {} and [] are left out, as a field of
	// such a struct decodes the same whether it is written so or omitted.
	ObjectValue ValueKind = "object"
)

// shape is the part of a Go type that decides what counts as not set.
type shape struct {
	kind   shapeKind
	fields map[string]shape // of a struct
	item   *shape           // of a list
}

type shapeKind int

const (
	valueShape   shapeKind = iota // string (omitempty): "" is not set
	pointerShape                  // *string: only null is not set
	listShape                     // []T: [] is not set
	mapShape                      // map[string]T: {} is not set
	structShape                   // *struct, or a struct in a list: fields by their shapes
	objectShape                   // *struct of plain fields: zero values inside are left out
)

var (
	stringShape     = shape{kind: valueShape}
	optionalString  = shape{kind: pointerShape}
	stringListShape = shape{kind: listShape, item: &stringShape}
	localReference  = map[string]shape{"apiGroup": optionalString, "kind": stringShape, "name": stringShape}
)

func valueKindNames() []string {
	names := make([]string, 0, len(shapes))
	for kind := range shapes {
		names = append(names, string(kind))
	}
	slices.Sort(names)
	return names
}

// shapes maps each ValueKind to the shape of its Go type.
var shapes = map[ValueKind]shape{
	StringValue:         stringShape,
	AnnotationValue:     stringShape,
	OptionalStringValue: optionalString,
	ListValue:           stringListShape,
	MapValue:            {kind: mapShape},
	LabelSelectorValue: {kind: structShape, fields: map[string]shape{
		"matchLabels": {kind: mapShape},
		"matchExpressions": {kind: listShape, item: &shape{kind: structShape, fields: map[string]shape{
			"key": stringShape, "operator": stringShape, "values": stringListShape,
		}}},
	}},
	LocalObjectReferenceValue: {kind: structShape, fields: localReference},
	ObjectReferenceValue:      {kind: structShape, fields: with(localReference, "namespace", optionalString)},
	RoleRefValue:              {kind: structShape, fields: map[string]shape{"apiGroup": stringShape, "kind": stringShape, "name": stringShape}},
	OptionalValue:             optionalString,
	ObjectValue:               {kind: objectShape},
}

func with(fields map[string]shape, name string, s shape) map[string]shape {
	fields = maps.Clone(fields)
	fields[name] = s
	return fields
}

// canonical returns a decoded value as its Go type holds it, and whether it
// is set: the forms that mean "not set" give false, struct fields that are
// not set (or unknown to the type, which the API server drops) are left
// out. A value of the wrong type is kept as written: the API server refuses
// it anyway.
func canonical(v any, s shape) (any, bool) {
	if !isSet(v, s) {
		if s.kind == valueShape {
			return v, false // "" as written
		}
		return nil, false
	}
	switch s.kind {
	case listShape:
		items, ok := v.([]any)
		if !ok || s.item.kind == valueShape {
			return v, true // string items are what they are
		}
		out := make([]any, len(items))
		for i, item := range items {
			out[i], _ = canonical(item, *s.item)
		}
		return out, true
	case structShape:
		m, ok := v.(map[string]any)
		if !ok {
			return v, true
		}
		out := map[string]any{}
		for name, field := range s.fields {
			if value, set := canonical(m[name], field); set {
				out[name] = value
			}
		}
		return out, true
	case objectShape:
		return withoutZeros(v), true
	}
	return v, true
}

// isSet is canonical's verdict on whether v is set, without building the
// canonical value.
func isSet(v any, s shape) bool {
	switch s.kind {
	case valueShape:
		return v != nil && v != ""
	case listShape:
		if items, ok := v.([]any); ok {
			return len(items) > 0
		}
	case mapShape:
		if m, ok := v.(map[string]any); ok {
			return len(m) > 0
		}
	}
	return v != nil
}

// withoutZeros drops the zero values inside mappings and lists: "", 0,
// false, null, and mappings and lists left empty. A mapping or list that
// holds no zero is returned as it is, not copied: most objects hold none.
func withoutZeros(v any) any {
	out, _ := stripZeros(v)
	return out
}

// stripZeros is withoutZeros, and whether it changed anything.
func stripZeros(v any) (any, bool) {
	switch t := v.(type) {
	case map[string]any:
		var out map[string]any // a copy, once a child changes
		for key, child := range t {
			stripped, changed := stripZeros(child)
			drop := isZero(stripped)
			if out == nil && (drop || changed) {
				out = maps.Clone(t)
			}
			switch {
			case out == nil:
			case drop:
				delete(out, key)
			default:
				out[key] = stripped
			}
		}
		if out == nil {
			return t, false
		}
		return out, true
	case []any:
		var out []any
		for i, child := range t {
			stripped, changed := stripZeros(child)
			if out == nil && changed {
				out = slices.Clone(t)
			}
			if out != nil {
				out[i] = stripped
			}
		}
		if out == nil {
			return t, false
		}
		return out, true
	}
	return v, false
}

func isZero(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case bool:
		return !t
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	n, ok := yamltext.Number(v)
	return ok && n == 0
}

// views hold, per kind, what the API server does to an object on an update
// before it compares it with the live one, beyond filling in one field's
// default (a rule's default says that): a function of the object and the
// live object it replaces (nil for the live object itself). A view of the
// chart's object may read only fields its kind's rules name: the object is
// parsed no further (ruleIndex.reach).
var views = map[GroupKind]func(object, old any) any{
	claimGroupKind: claimView,
}

// claimView returns a claim (decoded to plain values) as the API server
// compares it on an update: spec.dataSource and spec.dataSourceRef each
// filled from the other (pkg/registry/core/persistentvolumeclaim
// PrepareForUpdate). old is the live claim the update replaces, nil for the
// live claim itself. The object is not changed; the view shares what it
// does not rewrite.
func claimView(object any, old any) any {
	obj, ok := object.(map[string]any)
	if !ok {
		return object
	}
	spec, ok := obj["spec"].(map[string]any)
	if !ok && obj["spec"] != nil {
		return object // not a claim the API server would decode
	}
	view, spec := maps.Clone(obj), maps.Clone(spec)
	if spec == nil {
		spec = map[string]any{}
	}
	view["spec"] = spec
	// Only a claim's first data source may be anything but a claim or a
	// snapshot in spec.dataSource alone; on an update over a claim without
	// one, such a value is dropped silently.
	if oldSpec, _ := yamltext.ValueAt(old, []string{"spec"}).(map[string]any); old != nil &&
		oldSpec["dataSource"] == nil && oldSpec["dataSourceRef"] == nil &&
		spec["dataSourceRef"] == nil && !isClaimOrSnapshot(spec["dataSource"]) {
		delete(spec, "dataSource")
	}
	source, sourceOK := spec["dataSource"].(map[string]any)
	ref, refOK := spec["dataSourceRef"].(map[string]any)
	switch {
	case sourceOK && spec["dataSourceRef"] == nil:
		spec["dataSourceRef"] = pick(source, "apiGroup", "kind", "name")
	case refOK && spec["dataSource"] == nil && (ref["namespace"] == nil || ref["namespace"] == ""):
		spec["dataSource"] = pick(ref, "apiGroup", "kind", "name")
	}
	return view
}

// isClaimOrSnapshot reports whether a data source names a claim or a
// volume snapshot, the two kinds spec.dataSource always accepts.
func isClaimOrSnapshot(v any) bool {
	source, ok := v.(map[string]any)
	if !ok {
		return false
	}
	group, _ := source["apiGroup"].(string)
	switch source["kind"] {
	case "PersistentVolumeClaim":
		return group == ""
	case "VolumeSnapshot":
		return group == "snapshot.storage.k8s.io"
	}
	return false
}

// pick copies the named fields of m that are set to anything but null.
func pick(m map[string]any, names ...string) map[string]any {
	out := map[string]any{}
	for _, name := range names {
		if v, ok := m[name]; ok && v != nil {
			out[name] = v
		}
	}
	return out
}

// claimClass returns a claim's StorageClass as the API server looks it up
// (GetPersistentVolumeClaimClass, used by the resize admission): the beta
// annotation first, even when empty, then spec.storageClassName.
func claimClass(claim any) string {
	if annotations, _ := yamltext.ValueAt(claim, []string{"metadata", "annotations"}).(map[string]any); annotations != nil {
		if class, found := annotations["volume.beta.kubernetes.io/storage-class"]; found {
			name, _ := class.(string)
			return name
		}
	}
	name, _ := yamltext.ValueAt(claim, []string{"spec", "storageClassName"}).(string)
	return name
}
