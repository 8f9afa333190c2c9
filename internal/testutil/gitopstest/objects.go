package gitopstest

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/pvc-guard/pvc-guard/renderer"
	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
)

// ObjectID names an object of a stream.
type ObjectID struct {
	Kind renderer.GroupKind
	renderer.ObjectKey
}

func (id ObjectID) String() string { return id.Kind.String() + " " + id.ObjectKey.String() }

// Objects returns the objects of the kinds the rule sets name in a
// manifest stream, Lists unpacked, as the API server compares them on an
// update: each ruled field in its canonical form (renderer.Rule.Canonical),
// or the rule's default (the value the server fills in) where it is not
// set, and null mapping values dropped, as decoding drops them. Objects without metadata.namespace get namespace in their ID.
func Objects(stream []byte, namespace string, sets []*renderer.RuleSet) (map[ObjectID]map[string]any, error) {
	rules := map[renderer.GroupKind][]renderer.Rule{}
	for _, set := range sets {
		for _, rule := range set.Rules {
			rules[rule.Resource] = append(rules[rule.Resource], rule)
		}
	}
	nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(stream), OmitReaderAnnotations: true, DisableUnwrapping: true}).Read()
	if err != nil {
		return nil, err
	}
	objects := map[ObjectID]map[string]any{}
	for _, node := range nodes {
		items := []*yaml.RNode{node}
		if list := node.Field("items"); node.GetKind() == "List" && list != nil {
			if items, err = list.Value.Elements(); err != nil {
				return nil, err
			}
		}
		for _, item := range items {
			group, _, _ := strings.Cut(item.GetApiVersion(), "/")
			if !strings.Contains(item.GetApiVersion(), "/") {
				group = ""
			}
			kind := renderer.GroupKind{Group: group, Kind: item.GetKind()}
			if rules[kind] == nil {
				continue
			}
			var obj map[string]any
			if err := item.YNode().Decode(&obj); err != nil {
				return nil, fmt.Errorf("decoding %s %s: %w", kind, item.GetName(), err)
			}
			u := unstructured.Unstructured{Object: obj}
			id := ObjectID{Kind: kind, ObjectKey: renderer.ObjectKey{Namespace: u.GetNamespace(), Name: u.GetName()}}
			if id.Namespace == "" {
				id.Namespace = namespace
			}
			for _, rule := range rules[kind] {
				canonicalize(obj, rule)
			}
			objects[id] = dropNulls(obj).(map[string]any)
		}
	}
	return objects, nil
}

// canonicalize writes each field of rule in obj as the API server compares
// it: its canonical form, the rule's default where it is not set, or
// nothing.
func canonicalize(obj map[string]any, rule renderer.Rule) {
	for _, path := range rule.Fields() {
		for _, found := range path.Resolve(nil, obj) {
			value, set := rule.Canonical(found.Values[0])
			if !set && rule.Default != nil {
				value, set = rule.Canonical(rule.Default)
			}
			if q, ok := value.(string); ok && rule.Quantity {
				if parsed, err := resource.ParseQuantity(q); err == nil {
					value = parsed.String() // 1024Mi is 1Gi
				}
			}
			if set {
				setIn(obj, found.Path, value)
			} else if found.Keys[0] {
				setIn(obj, found.Path, nil)
			}
		}
	}
}

// setIn sets value at a concrete path whose list items exist, creating
// mappings on the way.
func setIn(v any, path yamltext.Path, value any) {
	for i, step := range path {
		last := i == len(path)-1
		if step.IsList() {
			if v = path[i : i+1].Get(v); v == nil {
				return
			}
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if last {
			m[step.Key] = value
			return
		}
		if _, ok := m[step.Key].(map[string]any); !ok && !path[i+1].IsList() {
			m[step.Key] = map[string]any{}
		}
		v = m[step.Key]
	}
}

// dropNulls removes the null values of mappings.
func dropNulls(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if child == nil {
				delete(t, k)
			} else {
				t[k] = dropNulls(child)
			}
		}
	case []any:
		for i, child := range t {
			t[i] = dropNulls(child)
		}
	}
	return v
}

// DiffObjects names the objects of two sets (from Objects) that differ or
// that only one set has; nil means they are the same.
func DiffObjects(got, want map[ObjectID]map[string]any) []string {
	var diffs []string
	for id, obj := range want {
		other, ok := got[id]
		switch {
		case !ok:
			diffs = append(diffs, id.String()+" is missing")
		case !reflect.DeepEqual(obj, other):
			diffs = append(diffs, id.String()+" differs")
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			diffs = append(diffs, id.String()+" is extra")
		}
	}
	return diffs
}
