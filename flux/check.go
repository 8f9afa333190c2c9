package flux

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/pvc-guard/pvc-guard/renderer"
)

var (
	claimKind  = renderer.GroupKind{Kind: "PersistentVolumeClaim"}
	volumeKind = renderer.GroupKind{Kind: "PersistentVolume"}
)

// bindingKinds are the kinds the volume binder completes: until an
// object's status.phase is Bound, the binder may still fill in a field the
// patch would pin (a claim's volumeName, a volume's claimRef). Pins of
// other kinds copy nothing the cluster fills in later.
var bindingKinds = map[renderer.GroupKind]string{claimKind: "claim", volumeKind: "volume"}

// check warns about pins that will not hold. The patches copy what each
// object has now, and they travel through git: a claim or volume that is
// not Bound yet is pinned without what the binder will fill in, a Released
// volume's pinned claimRef names a claim that is gone, and a volume whose
// claimRef names another claim (or an older claim of the same name, which
// was deleted and re-created) never binds the claim its pin is applied to,
// which then stays Pending. Volumes are cluster-scoped, so a reader bound
// per namespace may not get them: the volume check is then skipped and the
// warnings say so, since the patches themselves are still right.
func (p *Patcher) check(ctx context.Context, objects []renderer.Object) ([]string, error) {
	var warnings []string
	claims := map[renderer.ObjectKey]*unstructured.Unstructured{}
	var pinned, names []renderer.ObjectKey
	for _, obj := range objects {
		noun, binds := bindingKinds[obj.Kind]
		if len(obj.Pins) == 0 || !binds {
			continue
		}
		live := &unstructured.Unstructured{Object: obj.Live}
		if warning := phaseWarning(noun, obj.Key, live); warning != "" {
			warnings = append(warnings, warning)
		}
		if obj.Kind != claimKind {
			continue
		}
		claims[obj.Key] = live
		pinned = append(pinned, obj.Key)
		if name, _, _ := unstructured.NestedString(obj.Live, "spec", "volumeName"); name != "" {
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

// phaseWarning says why the pins of a claim or volume that is not Bound
// may not hold, or "" if it is Bound.
func phaseWarning(noun string, key renderer.ObjectKey, live *unstructured.Unstructured) string {
	phase, _, _ := unstructured.NestedString(live.Object, "status", "phase")
	switch phase {
	case "Bound":
		return ""
	case "Released":
		ref, _, _ := unstructured.NestedStringMap(live.Object, "spec", "claimRef")
		return fmt.Sprintf("%s %s is Released: its claim %s/%s is gone, and the pinned claimRef keeps the volume from binding any other claim; clear the claimRef (kubectl patch pv %s -p '{\"spec\":{\"claimRef\":null}}') before you hand it to a new claim, then run flux-patches again",
			noun, key, ref["namespace"], ref["name"], key.Name)
	case "":
		phase = "without a phase"
	}
	return fmt.Sprintf("%s %s is %s, not Bound: its patch pins only what it has now; run flux-patches again once it is bound", noun, key, phase)
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
