package renderer

import (
	"fmt"
	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// Policy says how a rule reconciles the chart's value of a field with the
// live object's value; the policies table holds what each one does.
type Policy string

const (
	// Immutable fields never change after creation. An absent or empty chart
	// value takes the live value; a different value is a conflict.
	Immutable Policy = "immutable"
	// SetOnce fields may be set while the live object has none (the binder
	// or the user fills them later); from then on they behave as Immutable.
	SetOnce Policy = "set-once"
	// StorageRequest is a claim's requested size: it never shrinks below
	// the live request, grows only on a bound claim whose StorageClass
	// allows volume expansion, and is fixed while the claim is pending.
	StorageRequest Policy = "storage-request"
	// NeverShrink is a size in a template: smaller than live keeps the live
	// size, larger is a conflict only an explicit growth resolves.
	NeverShrink Policy = "never-shrink"
	// AlwaysLive fields always take the live value: the chart may not
	// change them, and a change means nothing worth stopping for.
	AlwaysLive Policy = "always-live"
	// LiveIfSet fields take the live value whenever the live object has
	// one (the binder filled it in); where it has none, the chart's value
	// stands.
	LiveIfSet Policy = "live-if-set"
	// FixedMembership is a list whose items may not be added, removed or
	// moved; the rule's path ends with a [field=*] step.
	FixedMembership Policy = "fixed-membership"
	// Selector is an immutable label selector of a workload, which the
	// live value may replace only while it still selects the chart's pod
	// template (spec.template.metadata.labels).
	Selector Policy = "selector"
)

// policy is what a Policy does: the table below is the only place a
// policy's behaviour is written down, so a rule is data and nothing else.
type policy struct {
	// decide reconciles one field of one object.
	decide func(f fieldCase) ruling
	// fix is the advice on a conflict, unless the rule gives its own.
	fix string
	// pinAlways says that flux-patches pins the live value whatever the
	// chart renders; otherwise only where the renderer rewrote the field
	// (a size must stay free to grow).
	pinAlways bool
	// check rejects a rule the policy cannot serve.
	check func(r *Rule, path yamltext.Path) error
	// readsRelated says that decide may read a related live object, so
	// its fields take part in the first pass that learns which to fetch.
	readsRelated bool
	// reads are the fields of the chart's object that decide reads beyond
	// the rule's own: only the fields some rule or policy reads are parsed.
	reads []yamltext.Path
	// doc is the policy's line in the README.
	doc string
}

// fieldCase is one field of one object to decide on.
type fieldCase struct {
	rule *Rule
	path yamltext.Path // the concrete field
	fieldValues
	object *objectPair
	// related reads a related live object (a claim's StorageClass).
	related func(kind GroupKind, key ObjectKey) map[string]any
}

// objectPair is an object of the stream and its live counterpart.
type objectPair struct {
	chart, live map[string]any
	liveView    any // the live object as the API server compares it
}

// verdict is what a rule decides for one field of one object.
type verdict int

const (
	// keepChart leaves the chart's value as rendered.
	keepChart verdict = iota
	// takeLive writes the live value into the document.
	takeLive
	// conflict means neither value can be submitted safely without a
	// decision from the user (see ConflictPolicy).
	conflict
)

// ruling is a verdict with the sentence that explains it.
type ruling struct {
	verdict verdict
	why     string
	// keepLiveRefused says why --on-conflict=keep-live cannot resolve
	// this conflict; empty when it can.
	keepLiveRefused string
}

const keepOrFail = "render the live value in the chart, or re-run with --on-conflict=keep-live to keep it"

var policies = map[Policy]policy{
	Immutable: {
		decide:    func(f fieldCase) ruling { return decideImmutable(f, false) },
		fix:       keepOrFail,
		pinAlways: true,
		doc:       "not set in the chart (as the rule's `value` reads it): the live value is written in, unless the rule's `default`, which the API server fills in, equals it. Different: a conflict.",
	},
	SetOnce: {
		decide:    func(f fieldCase) ruling { return decideImmutable(f, true) },
		fix:       keepOrFail,
		pinAlways: true,
		doc:       "as immutable, except that the chart may set the field while the live object has none (Kubernetes allows that once, for example a pre-bound volumeName), to the live value at `firstValueFrom` if the rule names one.",
	},
	StorageRequest: {
		decide:       decideStorageRequest,
		fix:          "render the live size (or a larger one with an expandable StorageClass), or re-run with --on-conflict=keep-live to keep the live size",
		check:        requireKind(claimGroupKind),
		readsRelated: true,
		doc: "smaller than live on a bound claim: the live size is kept (a claim never shrinks). Larger on a bound claim: " +
			"kept only if the claim's StorageClass (its beta annotation's, else `storageClassName`, as Kubernetes looks it up) has `allowVolumeExpansion: true`, else a conflict. Any change on a pending claim: a conflict.",
	},
	NeverShrink: {
		decide: decideNeverShrink,
		fix:    "grow the volumes with `pvc-guard upgrade --expand-volumes` (it grows each claim, then re-creates the StatefulSet around its running pods), or re-run with --on-conflict=keep-live to keep the live size",
		doc:    "absent or smaller than live: the live size is kept (never shrink, also after a rollback). Larger: a conflict that names the explicit growth command.",
	},
	AlwaysLive: {
		decide:    decideAlwaysLive,
		pinAlways: true,
		doc:       "the live value is always written in; a different chart value is reported, not refused.",
	},
	LiveIfSet: {
		decide:    decideLiveIfSet,
		pinAlways: true,
		doc:       "the live value, when the live object has one, is always written in; where it has none, the chart's value stands (a pre-bound claimRef).",
	},
	FixedMembership: {
		decide: decideMembership,
		fix:    "render the live set of items, or re-run with --on-conflict=keep-live to keep it; a different set needs the object deleted with --cascade=orphan and created again",
		check:  requireListEnd,
		doc: "an item added or removed, or the items in another order (the API server compares the list in order): a conflict. " +
			"keep-live restores the live items after the chart's, unless that breaks the live order; it does not reorder them.",
	},
	Selector: {
		decide:    decideSelector,
		fix:       keepOrFail,
		pinAlways: true,
		reads:     []yamltext.Path{podTemplateLabels},
		doc: "as immutable; keep-live (or an absent chart value) takes the live selector only while it still selects the chart's pod template labels, " +
			"else the conflict stands.",
	},
}

func policyNames() []string {
	names := make([]string, 0, len(policies))
	for name := range policies {
		names = append(names, string(name))
	}
	slices.Sort(names)
	return names
}

// fixFor is the advice on a conflict of rule r.
func fixFor(r *Rule) string {
	if r.Fix != "" {
		return r.Fix
	}
	return policies[r.Policy].fix
}

func requireKind(kind GroupKind) func(*Rule, yamltext.Path) error {
	return func(r *Rule, _ yamltext.Path) error {
		if r.Resource != kind {
			return fmt.Errorf("policy %s reads %s fields (status.phase, the StorageClass) and serves only that kind", r.Policy, kind)
		}
		return nil
	}
}

func requireListEnd(r *Rule, path yamltext.Path) error {
	if last := path[len(path)-1]; !last.IsList() || last.Item != yamltext.Wildcard {
		return fmt.Errorf("policy %s needs a path that ends with a [field=*] step", r.Policy)
	}
	return nil
}

func decideImmutable(f fieldCase, setOnce bool) ruling {
	switch {
	case f.rule.Value == AnnotationValue && f.chartKey && !f.chartSet && !f.liveKey:
		return ruling{verdict: takeLive, why: "an empty annotation still names a class, \"\", where the API server looks one up"}
	case f.same(f.rule.Quantity):
		return ruling{verdict: keepChart}
	case !f.written && !f.chartKey && !f.liveSet:
		return ruling{verdict: keepChart} // only the API server's filling in differs; the field is absent on both sides
	case !f.written:
		return ruling{verdict: takeLive, why: "not set in the chart"}
	case !f.liveSet && setOnce:
		return decideFirstValue(f)
	}
	return ruling{verdict: conflict, why: f.rule.Reason}
}

// decideFirstValue lets the chart set a set-once field the live object does
// not have, unless the live object fixes the value elsewhere
// (FirstValueFrom).
func decideFirstValue(f fieldCase) ruling {
	if f.rule.FirstValueFrom == nil {
		return ruling{verdict: keepChart}
	}
	first, set := canonical(f.rule.FirstValueFrom.Get(f.object.liveView), stringShape)
	if !set || equalValues(f.chart, first, f.rule.Quantity) {
		return ruling{verdict: keepChart}
	}
	return ruling{verdict: conflict, why: fmt.Sprintf("the live object's %s is %s, and %s can only be set to that value",
		f.rule.FirstValueFrom, FormatValue(first), f.rule.FieldPaths())}
}

// decideStorageRequest mirrors the API server's size checks on a claim:
// requests may not shrink, and may grow only on a bound claim whose class
// is expandable.
func decideStorageRequest(f fieldCase) ruling {
	if !f.written {
		return ruling{verdict: takeLive, why: "not set in the chart"}
	}
	if !f.liveSet {
		return ruling{verdict: keepChart}
	}
	cmp, ok := compareQuantities(f.chart, f.live)
	bound := yamltext.ValueAt(f.object.live, []string{"status", "phase"}) == "Bound"
	switch {
	case !ok:
		return ruling{verdict: conflict, why: fmt.Sprintf("%q is not a valid resource quantity", scalarText(f.chart))}
	case cmp == 0:
		return ruling{verdict: keepChart}
	case !bound:
		return ruling{verdict: conflict, why: "the claim is not bound yet, and a pending claim's storage request is immutable"}
	case cmp < 0:
		return ruling{verdict: takeLive, why: "the live request is larger and can never shrink"}
	}
	if ok, why := expandable(f); !ok {
		return ruling{verdict: conflict, why: "the claim can only grow when its StorageClass allows volume expansion: " + why}
	}
	return ruling{verdict: keepChart}
}

// expandable reports whether a live claim's StorageClass allows expansion.
func expandable(f fieldCase) (bool, string) {
	name := claimClass(f.object.live)
	if name == "" {
		return false, "the live claim has no storageClassName"
	}
	class := f.related(classGroupKind, ObjectKey{Name: name})
	switch {
	case class == nil:
		return false, fmt.Sprintf("StorageClass %q does not exist", name)
	case class["allowVolumeExpansion"] != true:
		return false, fmt.Sprintf("StorageClass %q does not set allowVolumeExpansion: true", name)
	}
	return true, ""
}

func decideNeverShrink(f fieldCase) ruling {
	switch {
	case f.same(true):
		return ruling{verdict: keepChart}
	case !f.written:
		return ruling{verdict: takeLive, why: "not set in the chart"}
	case !f.liveSet:
		return ruling{verdict: conflict, why: f.rule.Reason}
	}
	switch cmp, ok := compareQuantities(f.chart, f.live); {
	case !ok:
		return ruling{verdict: conflict, why: fmt.Sprintf("%q is not a valid resource quantity", scalarText(f.chart))}
	case cmp == 0:
		return ruling{verdict: keepChart}
	case cmp < 0:
		return ruling{verdict: takeLive, why: "the live size is larger and never shrinks"}
	}
	return ruling{verdict: conflict, why: f.rule.Reason}
}

func decideAlwaysLive(f fieldCase) ruling {
	if f.same(f.rule.Quantity) {
		return ruling{verdict: keepChart}
	}
	return ruling{verdict: takeLive, why: f.rule.Reason}
}

func decideLiveIfSet(f fieldCase) ruling {
	if !f.liveSet || f.same(f.rule.Quantity) {
		return ruling{verdict: keepChart}
	}
	return ruling{verdict: takeLive, why: f.rule.Reason}
}

// podTemplateLabels are the labels a workload's selector must select.
var podTemplateLabels = yamltext.Path{{Key: "spec"}, {Key: "template"}, {Key: "metadata"}, {Key: "labels"}}

func decideSelector(f fieldCase) ruling {
	r := decideImmutable(f, false)
	if r.verdict == keepChart {
		return r
	}
	podLabels, _ := podTemplateLabels.Get(f.object.chart).(map[string]any)
	if why := selects(f.live, podLabels); why != "" && f.liveSet {
		if r.verdict == takeLive {
			r = ruling{verdict: conflict, why: "not set in the chart, and the live selector cannot be written in"}
		}
		r.keepLiveRefused = "the live selector " + why
	}
	return r
}

// selects says why a live label selector does not select a pod template's
// labels, or "" when it does.
func selects(selector any, podLabels map[string]any) string {
	m, ok := selector.(map[string]any)
	if !ok {
		return "is not a label selector"
	}
	var typed metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &typed); err != nil {
		return "cannot be read: " + err.Error()
	}
	sel, err := metav1.LabelSelectorAsSelector(&typed)
	if err != nil {
		return "is invalid: " + err.Error()
	}
	set := labels.Set{}
	for k, v := range podLabels {
		set[k] = scalarText(v)
	}
	if !sel.Matches(set) {
		return fmt.Sprintf("%s does not select the chart's pod template labels %s", FormatValue(selector), FormatValue(podLabels))
	}
	return ""
}
