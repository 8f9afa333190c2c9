package renderer

import (
	"bytes"
	"fmt"
	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ruleIndex is the loaded rules by kind.
type ruleIndex struct {
	byKind map[GroupKind][]*Rule
	// server is the API server's version, which decides the rules that
	// only hold on older servers; nil means the newest the rules know.
	server *version.Version
	// before holds the parsed ImmutableBefore of the rules that have one.
	before map[*Rule]*version.Version
	scopes map[GroupKind]Scope
	// needles are the texts the pre-scan looks for: each ruled kind's
	// name, without those another needle contains (PersistentVolume
	// finds PersistentVolumeClaim too).
	needles [][]byte
	// reach is what objectsIn parses of a document: the fields rules and
	// their policies read, the object's identity, and a List's items.
	reach *yamltext.Reach
}

// identity is what the renderer itself reads of every object: its kind,
// and its name, namespace and hook annotation.
var identity = []yamltext.Path{{{Key: "apiVersion"}}, {{Key: "kind"}}, {{Key: "metadata"}}}

// newRuleIndex indexes the rules of sets for a server of the given version
// (nil: the newest the rules know).
func newRuleIndex(sets []*RuleSet, server *version.Version) *ruleIndex {
	ix := &ruleIndex{byKind: map[GroupKind][]*Rule{}, scopes: map[GroupKind]Scope{}, server: server, before: map[*Rule]*version.Version{}}
	var kinds []string
	read := slices.Clone(identity)
	for _, set := range sets {
		for i := range set.Rules {
			r := &set.Rules[i]
			read = append(append(read, r.Fields()...), policies[r.Policy].reads...)
			if _, seen := ix.byKind[r.Resource]; !seen {
				kinds = append(kinds, r.Resource.Kind)
			}
			ix.byKind[r.Resource] = append(ix.byKind[r.Resource], r)
			ix.scopes[r.Resource] = r.scope()
			if r.ImmutableBefore != "" {
				ix.before[r] = version.MustParseGeneric(r.ImmutableBefore) // validated when read
			}
		}
	}
	ix.reach = yamltext.ReachOf(read)
	ix.reach.Recurse("items")
	for _, kind := range kinds {
		covered := slices.ContainsFunc(kinds, func(other string) bool {
			return other != kind && strings.Contains(kind, other)
		})
		if !covered && !slices.ContainsFunc(ix.needles, func(n []byte) bool { return string(n) == kind }) {
			ix.needles = append(ix.needles, []byte(kind))
		}
	}
	return ix
}

// mayHold is the cheap scan that lets most documents skip parsing. A
// kind's name is written out in any plain, quoted, flow or JSON form, in a
// List item and behind an anchor alike; only an escape sequence in a
// double-quoted scalar ("\x50ersistent...") can hide it, so any backslash
// sends the document to the parser too. It must never return false for a
// document that holds an object of a ruled kind.
func (ix *ruleIndex) mayHold(raw []byte) bool {
	for _, needle := range ix.needles {
		if bytes.Contains(raw, needle) {
			return true
		}
	}
	return len(ix.needles) > 0 && bytes.IndexByte(raw, '\\') >= 0
}

// object is one object of a ruled kind found in the stream.
type object struct {
	doc        yamltext.Document
	parsed     yamltext.Parsed // the whole document, parsed once
	item       int             // index in a List's items, or -1
	apiVersion string
	kind       GroupKind
	key        ObjectKey
	source     string
	value      map[string]any // the chart's object as plain Go values
	live       map[string]any // the live object, nil when there is none
	// view and liveView are both objects as the API server compares them
	// on an update (views), for kinds it rewrites before comparing.
	view, liveView any
	// edits are the object's rewrites, for Result.Objects.
	edits []yamltext.Edit
	pair  objectPair // what the policies read
}

// attachLive records the live object and the views the rules compare.
func (o *object) attachLive(live map[string]any) {
	o.live, o.view, o.liveView = live, any(o.value), any(live)
	if view := views[o.kind]; view != nil {
		o.view, o.liveView = view(o.value, live), view(live, nil)
	}
	o.pair = objectPair{chart: o.value, live: live, liveView: o.liveView}
}

// objectsIn returns the ruled objects of one document: the document
// itself, or the items of a List.
func (ix *ruleIndex) objectsIn(doc yamltext.Document, namespace string) ([]*object, error) {
	parsed, err := yamltext.ParseReach(doc.Raw, ix.reach)
	if err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if len(parsed.Node.Content) == 0 {
		return nil, nil
	}
	root := parsed.Node.Content[0]
	nodes := []*yaml.Node{root}
	if items := yamltext.MappingValue(root, "items"); items != nil && items.Kind == yaml.SequenceNode {
		nodes = items.Content
	}
	var found []*object
	for i, n := range nodes {
		apiVersion, kind := scalarValue(yamltext.MappingValue(n, "apiVersion")), scalarValue(yamltext.MappingValue(n, "kind"))
		gk := GroupKind{Group: groupOf(apiVersion), Kind: kind}
		if ix.byKind[gk] == nil {
			continue
		}
		item := i
		if n == root {
			item = -1
		}
		obj, err := ix.newObject(doc, parsed, item, n, apiVersion, gk, namespace)
		if err != nil {
			return nil, err
		}
		if obj != nil {
			found = append(found, obj)
		}
	}
	return found, nil
}

func scalarValue(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// groupOf is the API group of an apiVersion: "apps" of apps/v1, "" of v1.
func groupOf(apiVersion string) string {
	if group, _, ok := strings.Cut(apiVersion, "/"); ok {
		return group
	}
	return ""
}

// hookAnnotation marks the documents Helm runs as hooks. They are never
// ruled: Helm 4 post-renders them too, and their delete policies re-create
// them, so a live hook object says nothing about what may change.
const hookAnnotation = "helm.sh/hook"

// newObject decodes one object; a hook is nil.
func (ix *ruleIndex) newObject(doc yamltext.Document, parsed yamltext.Parsed, item int, n *yaml.Node, apiVersion string, kind GroupKind, namespace string) (*object, error) {
	decoded, err := yamltext.Decode(n)
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", kind.Kind, err)
	}
	if err := requireStringKeys(kind.Kind, decoded); err != nil {
		return nil, err
	}
	value, _ := decoded.(map[string]any)
	if annotations, _ := yamltext.ValueAt(value, []string{"metadata", "annotations"}).(map[string]any); annotations[hookAnnotation] != nil {
		return nil, nil
	}
	name, _ := yamltext.ValueAt(value, []string{"metadata", "name"}).(string)
	if name == "" {
		return nil, fmt.Errorf("%s without metadata.name; give it a name in its template", kind.Kind)
	}
	key := ObjectKey{Name: name}
	if ix.scopes[kind] == Namespaced {
		key.Namespace, _ = yamltext.ValueAt(value, []string{"metadata", "namespace"}).(string)
		if key.Namespace == "" {
			key.Namespace = namespace
		}
		if key.Namespace == "" {
			key.Namespace = "default"
		}
	}
	return &object{doc: doc, parsed: parsed, item: item, apiVersion: apiVersion, kind: kind, key: key,
		source: yamltext.SourceOf(doc.Raw), value: value}, nil
}

// field is one concrete field of one object that a rule decides on, with
// what the object's sides hold there (see objectSides).
type field struct {
	obj  *object
	rule *Rule
	yamltext.Found
}

// The objects a field is resolved over, in this order: the chart's object
// as written, the live view, and the chart's object as the API server
// compares it (its view), which is the object itself for kinds without one.
const (
	chartSide = iota
	liveSide
	viewSide
)

// fields returns every field the rules decide on for a live object: each
// rule's paths, resolved over the items the chart and the live object
// have. A field inside a list item that only one side has is left to the
// rule on the item itself (fixed-membership): there is nothing to compare.
func (ix *ruleIndex) fields(obj *object) []field {
	rules := ix.byKind[obj.kind]
	out := make([]field, 0, len(rules))
	sides := []any{obj.value, obj.liveView, obj.view}
	if views[obj.kind] == nil {
		sides = sides[:viewSide]
	}
	var found []yamltext.Found
	for _, rule := range rules {
		if !ix.applies(rule) {
			continue
		}
		for _, p := range rule.Fields() {
			found = p.Resolve(found[:0], sides...)
			for _, f := range found {
				if f.Partial {
					continue
				}
				if len(sides) == viewSide {
					f.Values[viewSide], f.Keys[viewSide] = f.Values[chartSide], f.Keys[chartSide]
				}
				out = append(out, field{obj: obj, rule: rule, Found: f})
			}
		}
	}
	return out
}

// decide applies the field's rule; related reads a related live object.
// It returns the chart's value as written and the live one as compared.
func (f field) decide(related func(GroupKind, ObjectKey) map[string]any) (chart, live any, values fieldValues, r ruling) {
	chart, live = f.Values[chartSide], f.Values[liveSide]
	values = f.rule.read(chart, f.Values[viewSide], live)
	values.chartKey, values.liveKey = f.Keys[chartSide], f.Keys[liveSide]
	return chart, live, values, policies[f.rule.Policy].decide(fieldCase{rule: f.rule, path: f.Path, fieldValues: values, object: &f.obj.pair, related: related})
}

// relatedKeys runs the decisions whose policy reads related objects once,
// with a lookup that records what it is asked for and finds nothing, so the
// related objects that matter (only a bound claim that grows needs its
// StorageClass) are fetched in one batch per kind. Other fields are decided
// once, later.
func relatedKeys(fields []field) map[GroupKind][]ObjectKey {
	asked := map[GroupKind][]ObjectKey{}
	record := func(kind GroupKind, key ObjectKey) map[string]any {
		if !slices.Contains(asked[kind], key) {
			asked[kind] = append(asked[kind], key)
		}
		return nil
	}
	for _, f := range fields {
		if policies[f.rule.Policy].readsRelated {
			f.decide(record)
		}
	}
	return asked
}

// applies reports whether the rule holds on the server; without a known
// server, the newest the rules know.
func (ix *ruleIndex) applies(r *Rule) bool {
	before := ix.before[r]
	return before == nil || ix.server != nil && ix.server.LessThan(before)
}

// versionMatters reports whether a rule for one of the objects' kinds
// holds only on some servers, so the server's version must be known.
func (ix *ruleIndex) versionMatters(objects []*object) bool {
	for _, obj := range objects {
		if slices.ContainsFunc(ix.byKind[obj.kind], func(r *Rule) bool { return r.ImmutableBefore != "" }) {
			return true
		}
	}
	return false
}
