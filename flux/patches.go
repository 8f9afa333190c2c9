// Package flux turns pvc-guard's decisions into kustomize patches for a Flux
// HelmRelease. Flux's helm-controller runs Helm's SDK with no executable
// post-renderer, only its built-in kustomize one (spec.postRenderers), so
// the claims' immutable fields reach it pinned to their live values as one
// strategic-merge patch per claim.
package flux

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/pvc-guard/pvc-guard/renderer"
	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
)

// Patcher computes the post-renderer block for a rendered manifest stream.
type Patcher struct {
	// Live is the cluster (or a snapshot of it).
	Live renderer.LiveState
	// Namespace is the release's namespace: documents without
	// metadata.namespace are in it, and patches for its claims leave the
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
	// whenever the stream was rendered, even if Patches then failed.
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

// Patch is a kustomize patch with the resources it applies to.
type Patch struct {
	Target Selector `json:"target"`
	Patch  string   `json:"patch"`
}

// Selector picks the resources a patch applies to.
type Selector struct {
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// Patches pins every claim of the stream that exists in the cluster: each
// immutable field the live claim has is set to its live value, whatever
// the stream renders, so the patches hold for later chart versions and
// stay the same when computed again from a release they were applied to.
// The storage request is the exception, since pinning it would stop the
// chart from growing a claim: it is pinned only where the stream asks for
// less than the live claim has. Conflicts fail or keep the live value as
// in the post-renderer.
func (p *Patcher) Patches(ctx context.Context, manifest []byte) (*Result, error) {
	state := &recordedState{LiveState: p.Live}
	asRendered := &renderer.Renderer{Live: state, Namespace: p.Namespace, OnConflict: p.OnConflict, Rules: p.Rules, KubeVersion: p.KubeVersion}
	_, report, err := asRendered.Render(ctx, manifest)
	result := &Result{Report: report}
	if err != nil {
		return result, err
	}
	sets := p.Rules
	if sets == nil {
		sets = renderer.DefaultRuleSets()
	}
	pinned := &pins{rules: sets, fields: map[renderer.ObjectKey]map[string]any{}}
	pinned.add(report.Rewrites, false)
	pinned.add(liveFields(state.claims, sets), true)
	if result.Block, err = pinned.block(p.Namespace, state.keys); err != nil {
		return result, err
	}
	result.Warnings, err = p.check(ctx, pinned.claims(), state.claims)
	result.Warnings = append(pinned.unpinned, result.Warnings...)
	return result, err
}

// claimKind is the kind recordedState records.
var claimKind = renderer.GroupKind{Kind: "PersistentVolumeClaim"}

// recordedState answers the first request for claims from the cluster and
// every later one from that answer, so the second render compares the very
// claims the first one did, without asking the API server again. Other
// kinds go to the cluster. It also remembers the first request's keys:
// every claim of the stream.
type recordedState struct {
	renderer.LiveState
	keys   []renderer.ObjectKey
	claims map[renderer.ObjectKey]*unstructured.Unstructured
}

func (s *recordedState) Objects(ctx context.Context, kind renderer.GroupKind, keys []renderer.ObjectKey) (map[renderer.ObjectKey]*unstructured.Unstructured, error) {
	if kind != claimKind {
		return s.LiveState.Objects(ctx, kind, keys)
	}
	if s.claims != nil {
		return s.claims, nil
	}
	claims, err := s.LiveState.Objects(ctx, kind, keys)
	s.keys, s.claims = keys, claims
	return claims, err
}

// liveFields lists every ruled field each live claim sets, as findings
// with the live value: what the patches pin whatever a later chart renders.
// A field the API server fills in when it is missing (volumeMode) is pinned
// too, since a later chart may render another value.
func liveFields(claims map[renderer.ObjectKey]*unstructured.Unstructured, sets []*renderer.RuleSet) []renderer.Finding {
	var found []renderer.Finding
	for key, claim := range claims {
		for _, set := range sets {
			for _, rule := range set.Rules {
				if rule.Resource != claimKind {
					continue
				}
				for _, path := range rule.Fields() {
					if value := path.Get(claim.Object); rule.IsSet(value) {
						found = append(found, renderer.Finding{Kind: claimKind.Kind, Namespace: key.Namespace, Name: key.Name, Field: path.String(), Rule: rule.Name, Live: value})
					}
				}
			}
		}
	}
	return found
}

// pins collects the value each claim's fields are pinned to.
type pins struct {
	rules  []*renderer.RuleSet
	fields map[renderer.ObjectKey]map[string]any // claim -> field path -> value
	// unpinned say which rewrites of other kinds no patch holds.
	unpinned []string
}

// add pins the live value of each finding, unless the field is pinned
// already; with always, only the fields whose rule pins them whatever the
// chart renders (see renderer.Rule.PinsAlways).
func (p *pins) add(findings []renderer.Finding, always bool) {
	for _, f := range findings {
		rule := renderer.FindRule(p.rules, f.Rule)
		if always && !rule.PinsAlways() {
			continue
		}
		if f.Kind != claimKind.Kind {
			p.unpinned = append(p.unpinned, fmt.Sprintf("%s: %s is kept at %s by the post-renderer, but flux-patches pins claims only so far: pin it in the HelmRelease by hand",
				f.Resource(), f.Field, renderer.FormatValue(f.Live)))
			continue
		}
		key := renderer.ObjectKey{Namespace: f.Namespace, Name: f.Name}
		if p.fields[key] == nil {
			p.fields[key] = map[string]any{}
		}
		if _, done := p.fields[key][f.Field]; done {
			continue
		}
		if !rule.IsSet(f.Live) {
			p.fields[key][f.Field] = nil // the renderer removed the field
		} else {
			p.fields[key][f.Field] = f.Live
		}
	}
}

// claims are the pinned claims in namespace and name order.
func (p pins) claims() []renderer.ObjectKey {
	keys := make([]renderer.ObjectKey, 0, len(p.fields))
	for key := range p.fields {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}

// block is one kustomize post-renderer with a patch per claim, in
// namespace and name order; stream names every claim of the stream.
func (p pins) block(releaseNamespace string, stream []renderer.ObjectKey) (*Block, error) {
	keys := p.claims()
	block := &Block{PostRenderers: []PostRenderer{}}
	if len(keys) == 0 {
		return block, nil
	}
	var patches []Patch
	for _, key := range keys {
		target, err := targetOf(key, releaseNamespace, stream)
		if err != nil {
			return nil, err
		}
		patch, err := claimPatch(key, p.fields[key])
		if err != nil {
			return nil, err
		}
		patches = append(patches, Patch{Target: target, Patch: patch})
	}
	block.PostRenderers = append(block.PostRenderers, PostRenderer{Kustomize: Kustomize{Patches: patches}})
	return block, nil
}

// targetOf selects the claim key and no other claim of the stream.
// Kustomize reads a target's name and namespace as anchored regular
// expressions, and matches a namespace against the document's namespace,
// or "default" when it has none, as the release's claims usually do. So a
// release claim is selected by name alone unless a claim of that name in
// another namespace shares the stream.
func targetOf(key renderer.ObjectKey, releaseNamespace string, stream []renderer.ObjectKey) (Selector, error) {
	target := Selector{Version: "v1", Kind: "PersistentVolumeClaim", Name: regexp.QuoteMeta(key.Name)}
	mine := documentNamespaces(key, releaseNamespace)
	if key.Namespace != releaseNamespace {
		target.Namespace = regexp.QuoteMeta(key.Namespace)
	}
	for _, other := range stream {
		if other.Name != key.Name || other == key {
			continue
		}
		if slices.ContainsFunc(documentNamespaces(other, releaseNamespace), func(ns string) bool { return slices.Contains(mine, ns) }) {
			return Selector{}, fmt.Errorf("claims %s and %s may both be documents in namespace %q to kustomize, so no patch target tells them apart; give them different names or explicit namespaces", key, other, mine[0])
		}
		quoted := make([]string, len(mine))
		for i, ns := range mine {
			quoted[i] = regexp.QuoteMeta(ns)
		}
		target.Namespace = strings.Join(quoted, "|")
	}
	return target, nil
}

// documentNamespaces are the namespaces kustomize may see on the claim's
// document: a claim in the release namespace may name it or, as Helm's
// templates usually do, name none, which kustomize reads as "default".
func documentNamespaces(key renderer.ObjectKey, releaseNamespace string) []string {
	if key.Namespace == releaseNamespace && key.Namespace != "default" {
		return []string{"default", key.Namespace}
	}
	return []string{key.Namespace}
}

// claimPatch is a strategic-merge patch setting each pinned field; a nil
// value is written as null, which removes the field.
func claimPatch(key renderer.ObjectKey, values map[string]any) (string, error) {
	claim := map[string]any{
		"apiVersion": "v1",
		"kind":       "PersistentVolumeClaim",
		"metadata":   map[string]any{"name": key.Name},
	}
	for field, value := range values {
		path, err := yamltext.ParsePath(field)
		if err != nil {
			return "", fmt.Errorf("the patch for %s: %w", key, err)
		}
		keys, ok := path.Keys()
		if !ok {
			return "", fmt.Errorf("the patch for %s: flux-patches cannot pin a field inside a list item (%s)", key, field)
		}
		setPath(claim, keys, value)
	}
	data, err := yaml.Marshal(claim)
	if err != nil {
		return "", fmt.Errorf("encoding the patch for %s: %w", key, err)
	}
	return string(data), nil
}

// setPath sets value at path, creating the mappings on the way.
func setPath(obj map[string]any, path []string, value any) {
	for _, key := range path[:len(path)-1] {
		next, ok := obj[key].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[key] = next
		}
		obj = next
	}
	obj[path[len(path)-1]] = value
}
