// Package krm runs pvc-guard as a KRM function, the plugin protocol of
// kustomize, kpt and other tools built on kyaml: the function reads a
// config.kubernetes.io/v1 ResourceList on stdin and writes it back with its
// items transformed and what it did as results.
//
// The objects come out exactly as the post-renderer makes them: the items are
// handed to the renderer as a stream of one document per item, so every rule
// and decision is the renderer's. Only the framing (kyaml's fn/framework)
// and the reporting (ResourceList results instead of stderr) differ.
package krm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/pvc-guard/pvc-guard/live"
	"github.com/pvc-guard/pvc-guard/renderer"
)

// Function is pvc-guard as a KRM function. Its fields are the defaults (the
// command line's); the ResourceList's functionConfig overrides them.
type Function struct {
	// Namespace applies to items without metadata.namespace.
	Namespace string
	// OnConflict defaults to renderer.Fail.
	OnConflict renderer.ConflictPolicy
	// Live is the live state unless the functionConfig names liveState
	// files: the cluster, or the command line's --live-state files.
	Live renderer.LiveState
	// Dir is where relative liveState and rules paths start; "" is the
	// working directory, which kustomize sets to the kustomization's
	// directory.
	Dir string
	// Rules are the rule sets unless the functionConfig names rules
	// files; nil means the default set.
	Rules []*renderer.RuleSet
	// KubeVersion is the API server version the rules assume, unless the
	// functionConfig's kubeVersion says another; empty means the
	// cluster's, or with a snapshot the newest the rules know.
	KubeVersion string
	// Snapshot says that Live is a snapshot (the command line's
	// --live-state), for which the functionConfig may set kubeVersion.
	Snapshot bool
}

// Run reads a ResourceList from in and writes the resulting ResourceList to
// out, and nothing else. Every problem, including a ResourceList that cannot
// be read, comes back as a result of severity error in that ResourceList and
// as the returned error, so the caller exits non-zero as the KRM function
// specification asks. The report is returned whenever objects were compared.
func (f *Function) Run(ctx context.Context, in []byte, out io.Writer) (*renderer.Report, error) {
	var report *renderer.Report
	process := framework.ResourceListProcessorFunc(func(rl *framework.ResourceList) error {
		var results framework.Results
		report, results = f.transform(ctx, rl)
		rl.Results = append(rl.Results, results...)
		if rl.Results.ExitCode() != 0 {
			return rl.Results
		}
		return nil
	})
	// Execute writes only once processing is done; a buffer keeps a failed
	// read from leaving anything but the error ResourceList on out.
	var buf bytes.Buffer
	err := framework.Execute(process, &kio.ByteReadWriter{Reader: bytes.NewReader(in), Writer: &buf, KeepReaderAnnotations: true})
	var results framework.Results
	if err != nil && !errors.As(err, &results) {
		// Not the processor's results: the ResourceList could not be read.
		results = framework.Results{errorResult(fmt.Errorf("invalid ResourceList: %w", err))}
		buf.Reset()
		if err := writeResultsOnly(&buf, results); err != nil {
			return nil, err
		}
	}
	if _, err := buf.WriteTo(out); err != nil {
		return report, fmt.Errorf("writing stdout: %w", err)
	}
	if results.ExitCode() != 0 {
		return report, results
	}
	return report, nil
}

// transform rewrites the ruled objects among the items in place and returns what
// was done as results.
func (f *Function) transform(ctx context.Context, rl *framework.ResourceList) (*renderer.Report, framework.Results) {
	cfg, err := f.loadConfig(rl.FunctionConfig)
	if err != nil {
		return nil, framework.Results{errorResult(err)}
	}
	if results := checkItems(rl.Items); len(results) > 0 {
		return nil, results
	}
	stream, err := encodeItems(rl.Items)
	if err != nil {
		return nil, framework.Results{errorResult(err)}
	}
	state, err := f.liveState(cfg)
	if err != nil {
		return nil, framework.Results{errorResult(err)}
	}
	r := &renderer.Renderer{Live: state, Namespace: cfg.Namespace, OnConflict: cfg.OnConflict, Rules: cfg.Rules, KubeVersion: cfg.KubeVersion}
	out, report, err := r.Render(ctx, stream)
	if err != nil {
		return report, errorResults(err, rl.Items)
	}
	items, err := decodeItems(out)
	if err != nil {
		return nil, framework.Results{errorResult(err)}
	}
	rl.Items = items
	return report, findingResults(report, items)
}

// liveState is the functionConfig's snapshot files when it names any, else
// the function's Live.
func (f *Function) liveState(cfg config) (renderer.LiveState, error) {
	if len(cfg.LiveState) > 0 {
		return live.ReadSnapshotFiles(cfg.LiveState)
	}
	if f.Live == nil {
		return nil, errors.New("no live state: name snapshot files in the functionConfig's liveState")
	}
	return f.Live, nil
}

// checkItems rejects items that are not Kubernetes objects: the KRM
// specification requires apiVersion and kind on every item, and neither the
// renderer nor a result could name anything else. (Items that are not
// mappings at all never get here: kyaml refuses to read them.)
func checkItems(items []*yaml.RNode) framework.Results {
	var results framework.Results
	for i, item := range items {
		var problem string
		switch {
		case item.GetApiVersion() == "":
			problem = "has no apiVersion"
		case item.GetKind() == "":
			problem = "has no kind"
		default:
			continue
		}
		results = append(results, &framework.Result{
			Severity: framework.Error,
			Message:  fmt.Sprintf("item %d of the ResourceList %s", i, problem),
			File:     fileOf(item),
		})
	}
	return results
}

// encodeItems writes the items as the stream the renderer reads: one
// document per item, in order, so that document i is item i.
func encodeItems(items []*yaml.RNode) ([]byte, error) {
	var b bytes.Buffer
	for i, item := range items {
		text, err := item.String()
		if err != nil {
			return nil, fmt.Errorf("encoding item %d: %w", i, err)
		}
		b.WriteString("---\n")
		b.WriteString(text)
	}
	return b.Bytes(), nil
}

// decodeItems reads the renderer's output back into items. Nothing is
// unwrapped: an item that is a List stays one item.
func decodeItems(stream []byte) ([]*yaml.RNode, error) {
	r := &kio.ByteReader{Reader: bytes.NewReader(stream), OmitReaderAnnotations: true, DisableUnwrapping: true}
	items, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the rewritten items: %w", err)
	}
	return items, nil
}

// writeResultsOnly writes a ResourceList with no items and the results.
func writeResultsOnly(w io.Writer, results framework.Results) error {
	node, err := resultsNode(results)
	if err != nil {
		return err
	}
	return kio.ByteWriter{
		Writer:             w,
		WrappingAPIVersion: kio.ResourceListAPIVersion,
		WrappingKind:       kio.ResourceListKind,
		Results:            node,
	}.Write(nil)
}
