package krm

import (
	"errors"
	"fmt"
	"strconv"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// findingResults reports every preserved field: info for a field the chart
// left unset or smaller, warning for a conflict that onConflict: keep-live
// resolved.
func findingResults(report *renderer.Report, items []*yaml.RNode) framework.Results {
	type field struct {
		document int
		path     string
	}
	resolved := map[field]bool{}
	for _, c := range report.Conflicts {
		resolved[field{c.Document, c.Field}] = true
	}
	results := framework.Results{}
	for _, f := range report.Rewrites {
		severity := framework.Info
		if resolved[field{f.Document, f.Field}] {
			severity = framework.Warning
		}
		message := fmt.Sprintf("%s of %s kept at %s from the live %s (%s: %s)", f.Field, f.Name, renderer.FormatValue(f.Live), f.Kind, f.Rule, f.Reason)
		results = append(results, findingResult(f, severity, message, items[f.Document]))
	}
	return results
}

// errorResults turns a failed render into results: one per conflict, one
// for a document the renderer could not read, else the error itself (live
// state unreadable, API server unreachable, RBAC).
func errorResults(err error, items []*yaml.RNode) framework.Results {
	var conflicts *renderer.ConflictError
	var document *renderer.DocumentError
	switch {
	case errors.As(err, &conflicts):
		results := framework.Results{}
		for _, c := range conflicts.Conflicts {
			message := fmt.Sprintf("chart wants %s, live is %s: %s; fix: %s", renderer.FormatValue(c.Chart), renderer.FormatValue(c.Live), c.Reason, c.Fix)
			results = append(results, findingResult(c, framework.Error, message, items[c.Document]))
		}
		return results
	case errors.As(err, &document):
		// The stream's documents are the items: its line numbers and
		// document indexes mean nothing to the user, the item does.
		item := items[document.Document]
		return framework.Results{{
			Severity:    framework.Error,
			Message:     document.Err.Error(),
			ResourceRef: resourceRef(item.GetApiVersion(), item.GetKind(), item.GetNamespace(), item.GetName()),
			File:        fileOf(item),
		}}
	}
	return framework.Results{errorResult(err)}
}

// findingResult is one field of one object as a result; the field's
// current value is the chart's, the proposed one the live object's.
func findingResult(f renderer.Finding, severity framework.Severity, message string, item *yaml.RNode) *framework.Result {
	return &framework.Result{
		Severity:    severity,
		Message:     message,
		ResourceRef: resourceRef(f.APIVersion, f.Kind, f.Namespace, f.Name),
		Field:       &framework.Field{Path: f.Field, CurrentValue: f.Chart, ProposedValue: f.Live},
		File:        fileOf(item),
	}
}

func errorResult(err error) *framework.Result {
	return &framework.Result{Severity: framework.Error, Message: err.Error()}
}

func resourceRef(apiVersion, kind, namespace, name string) *yaml.ResourceIdentifier {
	return &yaml.ResourceIdentifier{
		TypeMeta: yaml.TypeMeta{APIVersion: apiVersion, Kind: kind},
		NameMeta: yaml.NameMeta{Namespace: namespace, Name: name},
	}
}

// fileOf is where the orchestrator read the item from, when it says so.
func fileOf(item *yaml.RNode) *framework.File {
	path, index, _ := kioutil.GetFileAnnotations(item)
	if path == "" {
		return nil
	}
	i, _ := strconv.Atoi(index)
	return &framework.File{Path: path, Index: i}
}

// resultsNode encodes results for a ResourceList, as framework.Execute does.
func resultsNode(results framework.Results) (*yaml.RNode, error) {
	data, err := yaml.Marshal(results)
	if err != nil {
		return nil, fmt.Errorf("encoding results: %w", err)
	}
	return yaml.Parse(string(data))
}
