package audit

import (
	"encoding/json"
	"fmt"
	"maps"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes/scheme"
)

// Method is how Helm sends an object that exists.
type Method string

// Apply methods, as Helm's kube client Update chooses them.
const (
	// ClientSide is a three-way merge patch: original (what the current
	// release applied), target, and the live object.
	ClientSide Method = "client-side"
	// ServerSide is Helm 4's server-side apply of the whole target object.
	ServerSide Method = "server-side"
	// Replace is --force (--force-replace): a PUT of the whole target object.
	Replace Method = "replace"
)

// request is what stock Helm would send for one object that exists.
type request struct {
	method    Method
	mapping   *meta.RESTMapping
	namespace string
	name      string
	kind      string

	patchType   types.PatchType            // ClientSide
	body        []byte                     // ClientSide: the patch; ServerSide: the applied object
	replacement *unstructured.Unstructured // Replace

	// live is the object now; result is it as the request would leave it
	// (for server-side apply, as the three-way patch would: the fields Helm
	// applied before and drops now go, as Helm's manager owned them).
	live, result map[string]any
}

// newRequest builds the request Helm's kube client sends to take live to
// target, with original the object as the current release applied it (nil
// when the current release lacks it: Helm then takes the live object as
// original). It returns nil when the request would change nothing.
//
// It mirrors createPatch in Helm's pkg/kube: a strategic three-way merge
// patch for kinds client-go's scheme knows, a two-way JSON merge patch
// (original to target) for the others, as a rollback asks.
func newRequest(m Method, mapping *meta.RESTMapping, original, target, live *unstructured.Unstructured) (*request, error) {
	if original == nil {
		original = live
	}
	r := &request{method: m, mapping: mapping, namespace: live.GetNamespace(), name: live.GetName(), kind: target.GetKind(), live: live.Object}
	oldData, err := json.Marshal(original.Object)
	if err != nil {
		return nil, err
	}
	newData, err := json.Marshal(target.Object)
	if err != nil {
		return nil, err
	}
	currentData, err := json.Marshal(live.Object)
	if err != nil {
		return nil, err
	}
	patch, resultData, patchType, err := threeWay(target, oldData, newData, currentData)
	if err != nil {
		return nil, fmt.Errorf("computing the patch Helm would send for %s %s: %w", r.kind, r.name, err)
	}
	switch m {
	case ClientSide:
		if string(patch) == "{}" {
			return nil, nil
		}
		r.patchType, r.body = patchType, patch
	case ServerSide:
		if string(patch) == "{}" {
			return nil, nil // the live object has every field Helm would apply
		}
		r.body = newData
	case Replace:
		// A PUT replaces the object whatever the patch says: every field the
		// target lacks is cleared.
		r.replacement = target.DeepCopy()
		r.replacement.SetResourceVersion(live.GetResourceVersion())
		resultData = newData
	}
	if err := json.Unmarshal(resultData, &r.result); err != nil {
		return nil, err
	}
	return r, nil
}

// threeWay returns the patch Helm computes and the live object with it
// applied.
func threeWay(target *unstructured.Unstructured, oldData, newData, currentData []byte) (patch, result []byte, _ types.PatchType, _ error) {
	versioned, err := scheme.Scheme.New(target.GroupVersionKind())
	if err != nil {
		// Not a built-in kind: Helm's rollback sends a JSON merge patch.
		patch, err := jsonpatch.CreateMergePatch(oldData, newData)
		if err != nil {
			return nil, nil, "", err
		}
		result, err := jsonpatch.MergePatch(currentData, patch)
		return patch, result, types.MergePatchType, err
	}
	patchMeta, err := strategicpatch.NewPatchMetaFromStruct(versioned)
	if err != nil {
		return nil, nil, "", err
	}
	patch, err = strategicpatch.CreateThreeWayMergePatch(oldData, newData, currentData, patchMeta, true)
	if err != nil {
		return nil, nil, "", err
	}
	result, err = strategicpatch.StrategicMergePatch(currentData, patch, versioned)
	return patch, result, types.StrategicMergePatchType, err
}

// helmMetadata adds what Helm's rollback sets on every target object before
// it sends it (setMetadataVisitor in Helm's pkg/action): the managed-by
// label and the release annotations.
func helmMetadata(obj *unstructured.Unstructured, release, namespace string) {
	labels := maps.Clone(obj.GetLabels())
	if labels == nil {
		labels = map[string]string{}
	}
	labels["app.kubernetes.io/managed-by"] = "Helm"
	obj.SetLabels(labels)
	annotations := maps.Clone(obj.GetAnnotations())
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations["meta.helm.sh/release-name"] = release
	annotations["meta.helm.sh/release-namespace"] = namespace
	obj.SetAnnotations(annotations)
}
