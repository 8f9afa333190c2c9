// Package live provides the renderer's view of the cluster: the real API
// server through client-go (Cluster) or objects read from files (Snapshot).
// Both only read; nothing here writes to a cluster.
package live

import (
	"context"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// Snapshot is live state read from files, for previews, CI and debugging:
// `kubectl get pvc,storageclass -A -o yaml` output (a v1 List) or a
// multi-document stream of claims and classes. Other kinds are ignored.
type Snapshot struct {
	claims  map[renderer.ObjectKey]*unstructured.Unstructured
	classes map[string]*unstructured.Unstructured
}

var _ renderer.LiveState = (*Snapshot)(nil)

// ReadSnapshotFiles reads every file into one snapshot.
func ReadSnapshotFiles(paths []string) (*Snapshot, error) {
	s := NewSnapshot()
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading live state: %w", err)
		}
		if err := s.Add(data); err != nil {
			return nil, fmt.Errorf("reading live state %s: %w", path, err)
		}
	}
	return s, nil
}

// NewSnapshot returns an empty snapshot: no claim exists.
func NewSnapshot() *Snapshot {
	return &Snapshot{
		claims:  map[renderer.ObjectKey]*unstructured.Unstructured{},
		classes: map[string]*unstructured.Unstructured{},
	}
}

// Add reads YAML or JSON documents, unpacking Lists, into the snapshot.
// Documents are decoded straight to maps the way the renderer reads
// manifests (renderer.DecodeObjects): going through JSON, as apimachinery's
// decoder does, costs several times more on snapshots of thousands of
// claims.
func (s *Snapshot) Add(data []byte) error {
	objects, err := renderer.DecodeObjects(data)
	if err != nil {
		return err
	}
	for doc, obj := range objects {
		if obj == nil {
			continue
		}
		m, ok := obj.(map[string]any)
		if !ok {
			return fmt.Errorf("document %d: want an object, found %s", doc, renderer.FormatValue(obj))
		}
		if err := s.addObject(&unstructured.Unstructured{Object: m}); err != nil {
			return fmt.Errorf("document %d: %w", doc, err)
		}
	}
	return nil
}

func (s *Snapshot) addObject(obj *unstructured.Unstructured) error {
	if obj.IsList() {
		return obj.EachListItem(func(item runtime.Object) error {
			return s.addObject(item.(*unstructured.Unstructured))
		})
	}
	switch obj.GroupVersionKind().GroupKind().String() {
	case "PersistentVolumeClaim":
		if obj.GetNamespace() == "" {
			return fmt.Errorf("PersistentVolumeClaim %s has no metadata.namespace; live state must say where each claim lives", obj.GetName())
		}
		s.claims[renderer.ObjectKey{Namespace: obj.GetNamespace(), Name: obj.GetName()}] = obj
	case "StorageClass.storage.k8s.io":
		s.classes[obj.GetName()] = obj
	}
	return nil
}

// Claims implements renderer.LiveState.
func (s *Snapshot) Claims(_ context.Context, keys []renderer.ObjectKey) (map[renderer.ObjectKey]*unstructured.Unstructured, error) {
	found := map[renderer.ObjectKey]*unstructured.Unstructured{}
	for _, key := range keys {
		if pvc, ok := s.claims[key]; ok {
			found[key] = pvc
		}
	}
	return found, nil
}

// StorageClasses implements renderer.LiveState.
func (s *Snapshot) StorageClasses(_ context.Context, names []string) (map[string]*unstructured.Unstructured, error) {
	found := map[string]*unstructured.Unstructured{}
	for _, name := range names {
		if class, ok := s.classes[name]; ok {
			found[name] = class
		}
	}
	return found, nil
}
