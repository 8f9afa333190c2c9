// Package flux turns pvc-guard's decisions into kustomize patches for a Flux
// HelmRelease. Flux's helm-controller runs Helm's SDK with no executable
// post-renderer, only its built-in kustomize one (spec.postRenderers), so
// the fields the post-renderer keeps reach it pinned to their live values,
// one patch per live object of a ruled kind.
package flux

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// Patcher computes the post-renderer block for a rendered manifest stream.
type Patcher struct {
	// Live is the cluster (or a snapshot of it).
	Live renderer.LiveState
	// Namespace is the release's namespace: documents without
	// metadata.namespace are in it, and patches for its objects leave the
	// namespace out of their target, as Helm's rendered documents do.
	Namespace string
	// OnConflict defaults to renderer.Fail.
	OnConflict renderer.ConflictPolicy
	// CheckVolumes reads each pinned claim's PersistentVolume from Live, to
	// check that it still belongs to the claim (see Result.Warnings). Leave
	// it off for live state that holds no volumes, such as a snapshot of
	// claims only, where every volume would seem gone.
	CheckVolumes bool
	// Rules are the renderer's rule sets; nil means the default set.
	Rules []*renderer.RuleSet
	// KubeVersion is the renderer's (see renderer.Renderer).
	KubeVersion string
}

// Result is what Patches computes.
type Result struct {
	// Block is the spec.postRenderers block.
	Block *Block
	// Report is the post-renderer's report on the stream; it is set
	// whenever the stream was compared, even if Patches then failed.
	Report *renderer.Report
	// Warnings name the pins that will not hold as they stand, one
	// sentence each, and a check that could not be made.
	Warnings []string
}

// Block is the spec.postRenderers block of a HelmRelease.
type Block struct {
	PostRenderers []PostRenderer `json:"postRenderers"`
}

// PostRenderer is one entry of spec.postRenderers.
type PostRenderer struct {
	Kustomize Kustomize `json:"kustomize"`
}

// Kustomize is Flux's kustomize post-renderer.
type Kustomize struct {
	Patches []Patch `json:"patches"`
}

// Patch is a kustomize patch with the resources it applies to: a
// strategic-merge patch or a JSON 6902 one, which kustomize (and so Flux)
// tells apart by their text.
type Patch struct {
	Target Selector `json:"target"`
	Patch  string   `json:"patch"`
}

// Selector picks the resources a patch applies to.
type Selector struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// Patches pins every object of the stream that the rules cover and that
// exists in the cluster (renderer.Object's Pins): each field the
// post-renderer rewrites, and each field whose policy pins it always, is
// set to its live value, whatever the stream renders, so the patches hold
// for later chart versions and stay the same when computed again from a
// release they were applied to. Sizes are the exception, since pinning one
// would stop the chart from growing it: they are pinned only where the
// stream asks for less than the live object has. Conflicts fail or keep
// the live value as in the post-renderer.
func (p *Patcher) Patches(ctx context.Context, manifest []byte) (*Result, error) {
	r := &renderer.Renderer{Live: p.Live, Namespace: p.Namespace, OnConflict: p.OnConflict, Rules: p.Rules, KubeVersion: p.KubeVersion}
	rewritten, err := r.Rewrite(ctx, manifest)
	if conflicts := (*renderer.ConflictError)(nil); errors.As(err, &conflicts) {
		return &Result{Report: conflicts.Report}, err
	}
	if err != nil {
		return &Result{}, err
	}
	result := &Result{Report: rewritten.Report}
	objects := rewritten.Objects()
	if result.Block, err = block(objects, p.Namespace); err != nil {
		return result, err
	}
	result.Warnings, err = p.check(ctx, objects)
	return result, err
}

// block is one kustomize post-renderer with a patch per pinned object, by
// kind, namespace and name.
func block(objects []renderer.Object, releaseNamespace string) (*Block, error) {
	pinned := slices.DeleteFunc(slices.Clone(objects), func(o renderer.Object) bool { return len(o.Pins) == 0 })
	slices.SortFunc(pinned, func(a, b renderer.Object) int {
		return cmp.Or(cmp.Compare(a.Kind.String(), b.Kind.String()), cmp.Compare(a.Key.String(), b.Key.String()))
	})
	block := &Block{PostRenderers: []PostRenderer{}}
	if len(pinned) == 0 {
		return block, nil
	}
	var patches []Patch
	for _, obj := range pinned {
		target, err := targetOf(obj, releaseNamespace, objects)
		if err != nil {
			return nil, err
		}
		patch, err := patchOf(obj)
		if err != nil {
			return nil, fmt.Errorf("the patch for %s %s: %w", obj.Kind.Kind, obj.Key, err)
		}
		patches = append(patches, Patch{Target: target, Patch: patch})
	}
	block.PostRenderers = append(block.PostRenderers, PostRenderer{Kustomize: Kustomize{Patches: patches}})
	return block, nil
}

// targetOf selects obj and no other object of its kind in the stream.
// Kustomize reads a target's name and namespace as anchored regular
// expressions, and matches a namespace against the document's namespace,
// or "default" when it has none, as the release's objects usually do. So a
// release object is selected by name alone unless an object of that kind
// and name in another namespace shares the stream.
func targetOf(obj renderer.Object, releaseNamespace string, stream []renderer.Object) (Selector, error) {
	group, version, found := strings.Cut(obj.APIVersion, "/")
	if !found {
		group, version = "", obj.APIVersion
	}
	key := obj.Key
	target := Selector{Group: group, Version: version, Kind: obj.Kind.Kind, Name: regexp.QuoteMeta(key.Name)}
	mine := documentNamespaces(key, releaseNamespace)
	if key.Namespace != releaseNamespace {
		target.Namespace = regexp.QuoteMeta(key.Namespace)
	}
	for _, other := range stream {
		if other.Kind != obj.Kind || other.Key.Name != key.Name || other.Key == key {
			continue
		}
		if slices.ContainsFunc(documentNamespaces(other.Key, releaseNamespace), func(ns string) bool { return slices.Contains(mine, ns) }) {
			return Selector{}, fmt.Errorf("%s %s and %s %s may both be documents in namespace %q to kustomize, so no patch target tells them apart; give them different names or explicit namespaces",
				obj.Kind.Kind, key, obj.Kind.Kind, other.Key, mine[0])
		}
		quoted := make([]string, len(mine))
		for i, ns := range mine {
			quoted[i] = regexp.QuoteMeta(ns)
		}
		target.Namespace = strings.Join(quoted, "|")
	}
	return target, nil
}

// documentNamespaces are the namespaces kustomize may see on an object's
// document: an object in the release namespace may name it or, as Helm's
// templates usually do, name none, which kustomize reads as "default".
func documentNamespaces(key renderer.ObjectKey, releaseNamespace string) []string {
	if key.Namespace == releaseNamespace && key.Namespace != "default" {
		return []string{"default", key.Namespace}
	}
	return []string{key.Namespace}
}
