package flux

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/pvc-guard/pvc-guard/renderer"
)

var volumeKind = renderer.GroupKind{Kind: "PersistentVolume"}

// check warns about pins that will not hold. The patches copy what each
// claim has now, and they travel through git: a claim that is not Bound
// yet is pinned without the volume it will get, and a volume whose
// claimRef names another claim (or an older claim of the same name, which
// was deleted and re-created) never binds the claim its pin is applied to,
// which then stays Pending. Volumes are cluster-scoped, so a reader bound
// per namespace may not get them: the volume check is then skipped and the
// warnings say so, since the patches themselves are still right.
func (p *Patcher) check(ctx context.Context, pinned []renderer.ObjectKey, claims map[renderer.ObjectKey]*unstructured.Unstructured) ([]string, error) {
	var warnings []string
	var names []renderer.ObjectKey
	for _, key := range pinned {
		claim := claims[key]
		if phase, _, _ := unstructured.NestedString(claim.Object, "status", "phase"); phase != "Bound" {
			if phase == "" {
				phase = "without a phase"
			}
			warnings = append(warnings, fmt.Sprintf("claim %s is %s, not Bound: its patch pins only what it has now; run flux-patches again once it is bound", key, phase))
		}
		if name, _, _ := unstructured.NestedString(claim.Object, "spec", "volumeName"); name != "" {
			names = append(names, renderer.ObjectKey{Name: name})
		}
	}
	if !p.CheckVolumes || len(names) == 0 {
		return warnings, nil
	}
	volumes, err := p.Live.Objects(ctx, volumeKind, names)
	switch {
	case apierrors.IsForbidden(err):
		return append(warnings, "RBAC forbids get persistentvolumes, so whether each pinned volume still belongs to its claim was not checked; grant it cluster-wide (examples/rbac.yaml) to check"), nil
	case err != nil:
		return warnings, fmt.Errorf("checking the pinned claims' volumes: %w", err)
	}
	for _, key := range pinned {
		claim := claims[key]
		name, _, _ := unstructured.NestedString(claim.Object, "spec", "volumeName")
		if name == "" {
			continue
		}
		volume := volumes[renderer.ObjectKey{Name: name}]
		if volume == nil {
			warnings = append(warnings, fmt.Sprintf("claim %s is pinned to volume %s, which does not exist", key, name))
		} else if warning := claimRefWarning(key, claim, volume); warning != "" {
			warnings = append(warnings, warning)
		}
	}
	return warnings, nil
}

// claimRefWarning says why volume, which claim's patch pins, will not bind
// the claim, or "" if it will (or is free: a claim naming a volume without
// claimRef gets it).
func claimRefWarning(key renderer.ObjectKey, claim, volume *unstructured.Unstructured) string {
	ref, found, _ := unstructured.NestedStringMap(volume.Object, "spec", "claimRef")
	if !found {
		return ""
	}
	owner := renderer.ObjectKey{Namespace: ref["namespace"], Name: ref["name"]}
	switch {
	case owner != key:
		return fmt.Sprintf("claim %s is pinned to volume %s, whose claimRef names claim %s: the volume is not this claim's, and a claim pinned to it stays Pending", key, volume.GetName(), owner)
	case ref["uid"] != "" && claim.GetUID() != "" && ref["uid"] != string(claim.GetUID()):
		return fmt.Sprintf("claim %s (uid %s) is pinned to volume %s, whose claimRef names uid %s: the claim was deleted and re-created, and the volume binds only the claim it was bound to, so this one stays Pending; to hand the volume to it, clear the volume's claimRef (kubectl patch pv %s -p '{\"spec\":{\"claimRef\":null}}'), or pin the claim to another volume", key, claim.GetUID(), volume.GetName(), ref["uid"], volume.GetName())
	}
	return ""
}
