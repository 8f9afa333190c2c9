package renderer

import (
	"fmt"
	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"
)

// Scope says whether objects of a kind live in a namespace.
type Scope string

const (
	Namespaced Scope = "Namespaced"
	Cluster    Scope = "Cluster"
)

// Rule is one field of one kind that Kubernetes refuses to change
// freely, and the policy that reconciles the chart's value with the live
// one. Rule sets hold them; the README's table lists the default ones.
type Rule struct {
	// Name identifies the rule in reports and document comments.
	Name string `json:"name"`
	// Resource is the kind the rule applies to, in any version.
	Resource GroupKind `json:"resource"`
	// Scope is Namespaced (the default) or Cluster.
	Scope Scope `json:"scope,omitempty"`
	// Path is the field; Paths several fields that share the rule (the
	// sources of a PersistentVolume). A rule sets one of the two.
	Path  yamltext.Path   `json:"path,omitempty"`
	Paths []yamltext.Path `json:"paths,omitempty"`
	// Policy decides between the chart's and the live value.
	Policy Policy `json:"policy"`
	// Value is the field's Go type in the Kubernetes API, which decides as
	// the API server does whether null, "" and {} are a value; the zero
	// value means string.
	Value ValueKind `json:"value,omitempty"`
	// Quantity marks values compared as resource quantities (1Gi == 1024Mi).
	Quantity bool `json:"quantity,omitempty"`
	// Default is the value the API server fills in for an absent field: a
	// chart without the field asks for it.
	Default any `json:"default,omitempty"`
	// FirstValueFrom, for a set-once field, is the path of a live value
	// that the field must equal when the chart sets it first, if the live
	// object has one: a claim whose class is in the beta annotation can
	// only take that class.
	FirstValueFrom yamltext.Path `json:"firstValueFrom,omitempty"`
	// ImmutableBefore is the first server version that lets the field
	// change: the rule applies only to older servers.
	ImmutableBefore string `json:"immutableBefore,omitempty"`
	// Mirrors names the Kubernetes validation the rule follows.
	Mirrors string `json:"mirrors,omitempty"`
	// Reason says why Kubernetes refuses a change, in the user's terms.
	Reason string `json:"reason"`
	// Fix replaces the policy's advice on a conflict.
	Fix string `json:"fix,omitempty"`
}

// Fields returns the rule's paths: Path, or Paths.
func (r *Rule) Fields() []yamltext.Path {
	if r.Path != nil {
		return []yamltext.Path{r.Path}
	}
	return r.Paths
}

func (r *Rule) scope() Scope {
	if r.Scope == "" {
		return Namespaced
	}
	return r.Scope
}

// FieldPaths renders the rule's paths for tables: one path, or several
// joined by commas.
func (r *Rule) FieldPaths() string {
	var texts []string
	for _, p := range r.Fields() {
		texts = append(texts, p.String())
	}
	return strings.Join(texts, ", ")
}

// validate reports the first thing wrong with a rule read from a file.
func (r *Rule) validate() error {
	switch {
	case r.Name == "":
		return fmt.Errorf("no name")
	case r.Resource.Kind == "":
		return fmt.Errorf("resource has no kind")
	case r.Path != nil && r.Paths != nil, r.Path == nil && r.Paths == nil:
		return fmt.Errorf("set either path or paths")
	case r.Reason == "":
		return fmt.Errorf("no reason; say why Kubernetes refuses a change")
	}
	if _, ok := shapes[r.Value]; !ok && r.Value != "" {
		return fmt.Errorf("unknown value %q; pvc-guard knows %s", r.Value, strings.Join(valueKindNames(), ", "))
	}
	if r.FirstValueFrom != nil && r.Policy != SetOnce {
		return fmt.Errorf("firstValueFrom only means something to policy %s", SetOnce)
	}
	if r.Scope != "" && r.Scope != Namespaced && r.Scope != Cluster {
		return fmt.Errorf("scope must be %s or %s, not %q", Namespaced, Cluster, r.Scope)
	}
	p, ok := policies[r.Policy]
	if !ok {
		return fmt.Errorf("unknown policy %q; pvc-guard knows %s", r.Policy, strings.Join(policyNames(), ", "))
	}
	for _, path := range r.Fields() {
		if p.check == nil {
			break
		}
		if err := p.check(r, path); err != nil {
			return fmt.Errorf("path %s: %w", path, err)
		}
	}
	if r.ImmutableBefore != "" {
		if _, err := version.ParseGeneric(r.ImmutableBefore); err != nil {
			return fmt.Errorf("immutableBefore %q: %w", r.ImmutableBefore, err)
		}
	}
	return nil
}

// PinsAlways reports whether a pin of the field (flux-patches) holds the
// live value whatever the chart renders, rather than only where the
// renderer rewrote it: a size must stay free to grow.
func (r *Rule) PinsAlways() bool { return policies[r.Policy].pinAlways }

// shape is the shape of the rule's Value.
func (r *Rule) shape() shape {
	if s, ok := shapes[r.Value]; ok {
		return s
	}
	return stringShape
}

// IsSet reports whether v, a value of the rule's field, is a value to the
// API server rather than the field not being set: "" is a storage class,
// {} a selector, while [] access modes are none.
func (r *Rule) IsSet(v any) bool { return isSet(v, r.shape()) }

// Canonical returns v, a value of the rule's field, as its Go type in the
// API holds it (the forms that mean "not set" give false, and the zero
// fields of a struct are left out), so that two values the API server
// decodes alike compare equal.
func (r *Rule) Canonical(v any) (any, bool) {
	return canonical(v, r.shape())
}

// read returns the rule's field as compared: written is the chart's value
// as written, chart the chart's as the API server sees it (its object view,
// then the rule's default), live the live object's view.
func (r *Rule) read(written, chart, live any) fieldValues {
	s := r.shape()
	f := fieldValues{written: r.IsSet(written)}
	f.chart, f.chartSet = canonical(chart, s)
	if !f.chartSet && r.Default != nil {
		f.chart, f.chartSet = canonical(r.Default, s)
	}
	f.live, f.liveSet = canonical(live, s)
	return f
}

// fieldValues is one field of the chart's object and of the live object,
// read as the API server reads them.
type fieldValues struct {
	written           bool // the chart sets the field itself, in a form that is a value
	chart, live       any  // as compared: the chart's after the API server's defaulting
	chartSet, liveSet bool
	// chartKey and liveKey report whether the field is there at all, null
	// or empty included (see AnnotationValue).
	chartKey, liveKey bool
}

// same reports whether the API server sees one value on both sides.
func (f fieldValues) same(quantity bool) bool {
	return f.chartSet == f.liveSet && (!f.chartSet || equalValues(f.chart, f.live, quantity))
}
