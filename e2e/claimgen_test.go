package e2e

import (
	"fmt"
	"math/rand/v2"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// volumeTier is the label every generated volume carries and every
// generated live selector matches.
const volumeTier = "t1"

// claimKind generates PersistentVolumeClaims over the fields pvc-guard
// rules on. Live claims use the classes expandable and fixed (StorageClass
// objects the test creates), "" or none, and are bound to the volume named
// volumeFor(claim name).
func claimKind(expandable, fixed string, volumeFor func(string) string) kind {
	fields := claimSpecFields(expandable, fixed)
	// After the class, so that a seed draws the pairs it drew before
	// templates shared the spec fields.
	fields = slices.Insert(fields, 1,
		field{path: []string{"metadata", "annotations", "volume.beta.kubernetes.io/storage-class"},
			live:  oneOf(absent, absent, absent, absent, expandable, fixed),
			forms: forms{empty: "", other: otherThan(expandable, fixed)}},
		field{path: spec("volumeName"), live: oneOf(absent), // the volume's name, set by fix
			forms: forms{empty: "", other: otherThan("pv-elsewhere")}})
	return kind{
		base: func(name string) map[string]any {
			return map[string]any{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": map[string]any{"name": name}}
		},
		fields: fields,
		fix: func(_ *rand.Rand, claim map[string]any) {
			// A class in the beta annotation stands for the field.
			if get(claim, []string{"metadata", "annotations", "volume.beta.kubernetes.io/storage-class"}) != absent {
				set(claim, spec("storageClassName"), absent)
			}
			sameDataSources(claim)
			name, _ := get(claim, []string{"metadata", "name"}).(string)
			set(claim, spec("volumeName"), volumeFor(name))
		},
	}
}

// claimSpecFields are the ruled fields of a claim's spec that a
// StatefulSet's templates have too, with classes a and b (and "" or none)
// on live objects.
func claimSpecFields(a, b string) []field {
	pvc := map[string]any{"kind": "PersistentVolumeClaim", "name": "src"}
	return []field{
		{path: spec("storageClassName"), live: oneOf(absent, "", a, b),
			forms: forms{empty: "", other: otherThan("", a, b, "no-such-class")}},
		{path: spec("accessModes"), live: oneOf(modes("ReadWriteOnce"), modes("ReadWriteOnce", "ReadOnlyMany"), modes("ReadWriteMany"), modes("ReadWriteOncePod")),
			forms: forms{empty: []any{}, other: otherThan(modes("ReadWriteOnce"), modes("ReadOnlyMany", "ReadWriteOnce"), modes("ReadWriteOncePod"))}},
		{path: spec("volumeMode"), live: oneOf(absent, "Filesystem", "Block"),
			forms: forms{empty: "", equivalent: swap(absent, "Filesystem"), other: otherThan("Filesystem", "Block")}},
		{path: spec("selector"), live: oneOf(absent, absent, absent, map[string]any{}, matchLabels(volumeTier),
			map[string]any{"matchExpressions": []any{map[string]any{"key": "tier", "operator": "In", "values": []any{volumeTier}}}}),
			forms: forms{empty: map[string]any{}, equivalent: withEmptySelectorParts, other: otherThan(matchLabels("t2"), map[string]any{}, matchLabels(volumeTier))}},
		{path: spec("resources", "requests", "storage"), live: oneOf("1Gi", "2Gi"),
			forms: forms{empty: "", equivalent: swap("1Gi", "1024Mi", "2Gi", "2048Mi"), other: otherThan("512Mi", "1Gi", "2Gi", "3Gi")}},
		{path: spec("resources", "limits"), live: oneOf(absent, absent, map[string]any{"storage": "4Gi"}),
			forms: forms{empty: map[string]any{}, equivalent: swap(map[string]any{"storage": "4Gi"}, map[string]any{"storage": "4096Mi"}),
				other: otherThan(map[string]any{"storage": "8Gi"}, map[string]any{"storage": "4Gi"})}},
		{path: spec("dataSource"), live: oneOf(absent, absent, absent, pvc, with(pvc, "apiGroup", nil)),
			forms: forms{empty: map[string]any{}, equivalent: swap(pvc, with(pvc, "apiGroup", nil)),
				other: otherThan(with(pvc, "name", "other"), with(pvc, "apiGroup", ""), pvc)}},
		{path: spec("dataSourceRef"), live: oneOf(absent, absent, absent, pvc),
			forms: forms{empty: map[string]any{}, other: otherThan(with(pvc, "name", "other"), pvc)}},
	}
}

// sameDataSources makes both data source fields, when set, name the same
// object, as a valid claim must.
func sameDataSources(claim map[string]any) {
	if source := get(claim, spec("dataSource")); source != absent && get(claim, spec("dataSourceRef")) != absent {
		set(claim, spec("dataSourceRef"), source)
	}
}

func spec(path ...string) []string { return append([]string{"spec"}, path...) }

func modes(names ...string) []any {
	out := make([]any, len(names))
	for i, name := range names {
		out[i] = name
	}
	return out
}

func matchLabels(tier string) map[string]any {
	return map[string]any{"matchLabels": map[string]any{"tier": tier}}
}

func with(m map[string]any, key string, value any) map[string]any {
	out := clone(m).(map[string]any)
	out[key] = value
	return out
}

// swap returns an equivalent spelling for each of pairs of values, in both
// directions; other values are kept.
func swap(pairs ...any) func(any) any {
	return func(live any) any {
		for i := 0; i+1 < len(pairs); i += 2 {
			switch {
			case equalJSON(live, pairs[i]):
				return clone(pairs[i+1])
			case equalJSON(live, pairs[i+1]):
				return clone(pairs[i])
			}
		}
		return live
	}
}

// withEmptySelectorParts spells a selector with its missing parts empty.
func withEmptySelectorParts(live any) any {
	selector, ok := clone(live).(map[string]any)
	if !ok {
		return live
	}
	if _, ok := selector["matchLabels"]; !ok {
		selector["matchLabels"] = map[string]any{}
	}
	if _, ok := selector["matchExpressions"]; !ok {
		selector["matchExpressions"] = []any{}
	}
	return selector
}

// volumeOf builds the volume a generated live claim binds to: pre-bound
// to it, of its class (annotation first), modes and size, and labelled so
// that every generated selector matches.
func volumeOf(claim map[string]any, ns, name string) (*corev1.PersistentVolume, error) {
	class, _ := get(claim, []string{"metadata", "annotations", "volume.beta.kubernetes.io/storage-class"}).(string)
	if class == "" {
		class, _ = get(claim, spec("storageClassName")).(string)
	}
	size, _ := get(claim, spec("resources", "requests", "storage")).(string)
	quantity, err := resource.ParseQuantity(size)
	if err != nil {
		return nil, fmt.Errorf("claim size %q: %w", size, err)
	}
	mode := corev1.PersistentVolumeFilesystem
	if m, ok := get(claim, spec("volumeMode")).(string); ok {
		mode = corev1.PersistentVolumeMode(m)
	}
	var accessModes []corev1.PersistentVolumeAccessMode
	for _, m := range get(claim, spec("accessModes")).([]any) {
		accessModes = append(accessModes, corev1.PersistentVolumeAccessMode(m.(string)))
	}
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"tier": volumeTier, testcluster.TestLabel: ns}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: quantity},
			AccessModes:                   accessModes,
			StorageClassName:              class,
			VolumeMode:                    &mode,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/pvc-guard-e2e/" + name},
			},
			ClaimRef: &corev1.ObjectReference{Namespace: ns, Name: get(claim, []string{"metadata", "name"}).(string)},
		},
	}, nil
}
