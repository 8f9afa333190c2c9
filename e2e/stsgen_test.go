package e2e

import "math/rand/v2"

// podApp is the label every generated pod template carries and every
// generated selector asks for; selectorVersion is the label a selector may
// ask for besides, which then ties the pod template's version label.
const (
	podApp          = "diff"
	selectorVersion = "version"
)

// statefulSetKind generates StatefulSets over the fields pvc-guard rules on
// (selector, serviceName, podManagementPolicy, the templates), with the
// fields a user may change drawn too, so that a rewrite that touches one of
// them shows. Templates are named data and logs and use the classes a and b
// (which need not exist: a dry run binds nothing).
func statefulSetKind(a, b string) kind {
	apps := map[string]any{"app": podApp}
	expression := map[string]any{"matchExpressions": []any{map[string]any{"key": "app", "operator": "In", "values": []any{podApp}}}}
	versioned := map[string]any{"matchLabels": map[string]any{"app": podApp, selectorVersion: "1"}}
	rolling := map[string]any{"type": "RollingUpdate"}
	retain := map[string]any{"whenDeleted": "Retain", "whenScaled": "Retain"}
	return kind{
		base: func(name string) map[string]any {
			return map[string]any{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": map[string]any{"name": name},
				"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": podApp}}}}}
		},
		fields: []field{
			{path: []string{"metadata", "labels", "helm.sh/chart"}, live: oneOf(absent, "diff-1.0.0"),
				forms: forms{empty: "", other: otherThan("diff-1.0.0", "diff-1.1.0")}},
			{path: spec("selector"), live: oneOf(map[string]any{"matchLabels": apps}, expression, versioned),
				forms: forms{empty: map[string]any{}, equivalent: withEmptySelectorParts,
					other: otherThan(map[string]any{"matchLabels": apps}, expression, versioned)}},
			{path: spec("serviceName"), live: oneOf(absent, "diff", "diff-headless"),
				forms: forms{empty: "", other: otherThan("diff", "diff-headless", "other")}},
			{path: spec("podManagementPolicy"), live: oneOf(absent, "OrderedReady", "Parallel"),
				forms: forms{empty: "", equivalent: swap(absent, "OrderedReady"), other: otherThan("OrderedReady", "Parallel")}},
			// Mostly no replicas, so the controller makes few pods and claims.
			{path: spec("replicas"), live: oneOf(0, 0, 0, 1),
				forms: forms{empty: absent, other: otherThan(0, 1, 3)}},
			{path: spec("template", "metadata", "labels", selectorVersion), live: oneOf(absent, "1"),
				forms: forms{empty: "", other: otherThan("1", "2")}},
			{path: spec("template", "spec", "containers"), live: oneOf(containers("nginx:1.25"), containers("nginx:1.27")),
				forms: forms{required: true, empty: absent, other: otherThan(containers("nginx:1.25"), containers("nginx:1.27"))}},
			{path: spec("updateStrategy"), live: oneOf(absent, rolling, map[string]any{"type": "OnDelete"}, with(rolling, "rollingUpdate", map[string]any{"partition": 1})),
				forms: forms{empty: map[string]any{}, other: otherThan(rolling, map[string]any{"type": "OnDelete"}, with(rolling, "rollingUpdate", map[string]any{"partition": 0}))}},
			{path: spec("minReadySeconds"), live: oneOf(absent, 0, 5),
				forms: forms{empty: absent, other: otherThan(0, 5, 10)}},
			{path: spec("revisionHistoryLimit"), live: oneOf(absent, 10, 3),
				forms: forms{empty: absent, other: otherThan(10, 3, 0)}},
			{path: spec("persistentVolumeClaimRetentionPolicy"), live: oneOf(absent, retain, with(retain, "whenDeleted", "Delete")),
				forms: forms{empty: map[string]any{}, other: otherThan(retain, with(retain, "whenDeleted", "Delete"), map[string]any{"whenScaled": "Delete"})}},
			listOf(spec("volumeClaimTemplates"), templateKind(a, b), "data", "logs"),
		},
		fix:      func(_ *rand.Rand, live map[string]any) { podsCarrySelectorVersion(live) },
		fixChart: podsCarrySelectorVersion,
	}
}

// templateKind generates a StatefulSet's volumeClaimTemplates: the claim's
// spec fields, and the metadata and type fields a chart may write in a
// template (the live set shows apiVersion and kind whether it did or not).
func templateKind(a, b string) kind {
	chartLabel := map[string]any{"app": podApp, "helm.sh/chart": "diff-1.0.0"}
	fields := []field{
		{path: []string{"apiVersion"}, live: oneOf(absent, "v1"), forms: forms{empty: "", other: otherThan("v1", absent)}},
		{path: []string{"kind"}, live: oneOf(absent, "PersistentVolumeClaim"), forms: forms{empty: "", other: otherThan("PersistentVolumeClaim", absent)}},
		{path: []string{"metadata", "labels"}, live: oneOf(absent, map[string]any{"app": podApp}, chartLabel),
			forms: forms{empty: map[string]any{}, other: otherThan(with(chartLabel, "helm.sh/chart", "diff-1.1.0"), map[string]any{"app": podApp})}},
		{path: []string{"metadata", "annotations"}, live: oneOf(absent, absent, map[string]any{"note": "a"}),
			forms: forms{empty: map[string]any{}, other: otherThan(map[string]any{"note": "b"}, map[string]any{"note": "a"})}},
	}
	return kind{
		base:   func(name string) map[string]any { return map[string]any{"metadata": map[string]any{"name": name}} },
		fields: append(fields, claimSpecFields(a, b)...),
		fix:    func(_ *rand.Rand, template map[string]any) { sameDataSources(template) },
	}
}

// podsCarrySelectorVersion gives the pod template the version label the
// selector asks for, if it asks for one: a set whose selector does not
// select its own pods is refused on create as much as on update, which
// says nothing about the rules.
func podsCarrySelectorVersion(sts map[string]any) {
	if v, ok := get(sts, spec("selector", "matchLabels", selectorVersion)).(string); ok {
		set(sts, spec("template", "metadata", "labels", selectorVersion), v)
	}
}

func containers(image string) []any {
	return []any{map[string]any{"name": "app", "image": image}}
}
