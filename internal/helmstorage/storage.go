// Package helmstorage reads the release records Helm keeps in the cluster,
// without Helm's SDK: `pvc-guard flux-patches --release` needs one manifest,
// and linking Helm's SDK for it would triple the post-renderer's start-up
// time. It reads what Helm 3 and Helm 4 write (helm.sh/release.v1 records,
// pkg/storage/driver in Helm) and never writes.
package helmstorage

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// ErrReleaseNotFound is Helm's error (driver.ErrReleaseNotFound) for a
// release without records.
var ErrReleaseNotFound = errors.New("release: not found")

var (
	secrets    = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

// Storage is one namespace's release records in the storage $HELM_DRIVER
// names.
type Storage struct {
	client   dynamic.ResourceInterface
	resource schema.GroupVersionResource
}

// NewStorage returns the records of namespace in the storage driver names,
// as Helm's $HELM_DRIVER does: Secrets by default, or ConfigMaps. Helm's
// memory driver holds nothing outside the process that wrote it, and its SQL
// driver is a database pvc-guard does not read.
func NewStorage(client dynamic.Interface, driver, namespace string) (*Storage, error) {
	var resource schema.GroupVersionResource
	switch driver {
	case "secret", "secrets", "":
		resource = secrets
	case "configmap", "configmaps":
		resource = configMaps
	case "memory", "sql":
		return nil, fmt.Errorf(`HELM_DRIVER=%s: pvc-guard reads releases Helm stores in Secrets or ConfigMaps; pipe "helm get manifest RELEASE" into it instead`, driver)
	default:
		return nil, fmt.Errorf("unknown driver %q", driver)
	}
	return &Storage{client: client.Resource(resource).Namespace(namespace), resource: resource}, nil
}

// record is the part of Helm's release record pvc-guard needs.
type record struct {
	Version  int    `json:"version"`
	Manifest string `json:"manifest"`
}

// LastManifest is the manifest of the release's latest revision, whatever
// its status: what `helm get manifest NAME` prints.
func (s *Storage) LastManifest(ctx context.Context, name string) (string, error) {
	selector, err := labels.ValidatedSelectorFromSet(labels.Set{"name": name, "owner": "helm"})
	if err != nil {
		return "", fmt.Errorf("invalid release name %q: %w", name, err)
	}
	list, err := s.client.List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return "", fmt.Errorf("listing Helm's release %s: %w", s.resource.Resource, err)
	}
	if len(list.Items) == 0 {
		return "", ErrReleaseNotFound
	}
	var last *record
	for _, item := range list.Items {
		// Helm skips records it cannot decode, too.
		if r, err := s.decode(item); err == nil && (last == nil || r.Version > last.Version) {
			last = r
		}
	}
	if last == nil {
		return "", fmt.Errorf("no revision for release %q", name)
	}
	return last.Manifest, nil
}

// decode reads a record as Helm's decodeRelease does: base64, gzip when the
// gzip header is there (records from before Helm compressed them lack it),
// JSON. A Secret's data carries one more base64 layer, Kubernetes' own.
func (s *Storage) decode(item unstructured.Unstructured) (*record, error) {
	data, _, err := unstructured.NestedString(item.Object, "data", "release")
	if err != nil {
		return nil, err
	}
	encoded := []byte(data)
	if s.resource == secrets {
		if encoded, err = base64.StdEncoding.DecodeString(data); err != nil {
			return nil, err
		}
	}
	raw, err := base64.StdEncoding.AppendDecode(nil, encoded)
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(raw, []byte{0x1f, 0x8b, 0x08}) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
