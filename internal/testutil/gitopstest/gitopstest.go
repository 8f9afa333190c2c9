// Package gitopstest helps test pvc-guard's GitOps integrations against the
// tools themselves: it applies a HelmRelease's kustomize post-renderers as
// Flux's helm-controller does, and reads the claims of a manifest stream so
// that outputs made by different tools can be compared for what they mean.
package gitopstest

import (
	"bytes"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/pvc-guard/pvc-guard/flux"
	"github.com/pvc-guard/pvc-guard/renderer"
)

// PostRenderer is a HelmRelease's spec.postRenderers as Helm's SDK sees them
// in Flux's helm-controller: a post-renderer (Helm 3's and Helm 4's
// interface) that runs each kustomize entry in turn.
type PostRenderer struct {
	Block *flux.Block
}

// Run implements Helm's post-renderer interface.
func (p PostRenderer) Run(rendered *bytes.Buffer) (*bytes.Buffer, error) {
	out := rendered.Bytes()
	for _, entry := range p.Block.PostRenderers {
		var err error
		if out, err = Kustomize(out, entry.Kustomize.Patches); err != nil {
			return nil, err
		}
	}
	return bytes.NewBuffer(out), nil
}

// Kustomize builds an in-memory kustomization whose only resource is the
// stream, with the patches, no load restrictions and no plugins: the
// kustomization helm-controller builds for a post-renderer.
func Kustomize(stream []byte, patches []flux.Patch) ([]byte, error) {
	const resources = "helm-output.yaml"
	// Flux's patch fields are kustomize's, so the kustomization is the
	// patches as they are.
	kustomization, err := json.Marshal(map[string]any{"resources": []string{resources}, "patches": patches})
	if err != nil {
		return nil, err
	}
	fs := filesys.MakeFsInMemory()
	if err := fs.WriteFile(resources, stream); err != nil {
		return nil, err
	}
	if err := fs.WriteFile("kustomization.yaml", kustomization); err != nil {
		return nil, err
	}
	return build(fs, ".")
}

// Build runs kustomize (built-in transformers only) on a directory.
func Build(dir string) ([]byte, error) {
	return build(filesys.MakeFsOnDisk(), dir)
}

func build(fs filesys.FileSystem, dir string) ([]byte, error) {
	options := &krusty.Options{LoadRestrictions: types.LoadRestrictionsNone, PluginConfig: types.DisabledPluginConfig()}
	built, err := krusty.MakeKustomizer(options).Run(fs, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize: %w", err)
	}
	return built.AsYaml()
}

// Claims returns the claims of a manifest stream, Lists unpacked, by
// namespace (namespace when a claim sets none) and name.
func Claims(stream []byte, namespace string) (map[renderer.ObjectKey]*corev1.PersistentVolumeClaim, error) {
	nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(stream), OmitReaderAnnotations: true, DisableUnwrapping: true}).Read()
	if err != nil {
		return nil, err
	}
	claims := map[renderer.ObjectKey]*corev1.PersistentVolumeClaim{}
	for _, node := range nodes {
		objects := []*yaml.RNode{node}
		if items := node.Field("items"); node.GetKind() == "List" && items != nil {
			if objects, err = items.Value.Elements(); err != nil {
				return nil, err
			}
		}
		for _, obj := range objects {
			if obj.GetKind() != "PersistentVolumeClaim" {
				continue
			}
			claim, err := decodeClaim(obj)
			if err != nil {
				return nil, err
			}
			if claim.Namespace == "" {
				claim.Namespace = namespace
			}
			claims[renderer.ObjectKey{Namespace: claim.Namespace, Name: claim.Name}] = claim
		}
	}
	return claims, nil
}

func decodeClaim(node *yaml.RNode) (*corev1.PersistentVolumeClaim, error) {
	var object map[string]any
	if err := node.YNode().Decode(&object); err != nil {
		return nil, err
	}
	claim := &corev1.PersistentVolumeClaim{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(object, claim); err != nil {
		return nil, fmt.Errorf("decoding claim %s: %w", node.GetName(), err)
	}
	return claim, nil
}

// SameClaims compares two sets of claims as the API server would, quantities
// by value and after its defaulting: a claim without volumeMode is stored as
// Filesystem, so a patch that pins the live Filesystem changes nothing.
func SameClaims(a, b map[renderer.ObjectKey]*corev1.PersistentVolumeClaim) bool {
	return equality.Semantic.DeepEqual(defaulted(a), defaulted(b))
}

func defaulted(claims map[renderer.ObjectKey]*corev1.PersistentVolumeClaim) map[renderer.ObjectKey]*corev1.PersistentVolumeClaim {
	out := make(map[renderer.ObjectKey]*corev1.PersistentVolumeClaim, len(claims))
	for key, claim := range claims {
		claim = claim.DeepCopy()
		if claim.Spec.VolumeMode == nil {
			mode := corev1.PersistentVolumeFilesystem
			claim.Spec.VolumeMode = &mode
		}
		out[key] = claim
	}
	return out
}
