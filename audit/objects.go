package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// manifestObject is one object of a release manifest, where the API
// server serves it.
type manifestObject struct {
	*unstructured.Unstructured
	mapping *meta.RESTMapping
}

type objectKey struct {
	gk              schema.GroupKind
	namespace, name string
}

func keyOf(o manifestObject) objectKey {
	return objectKey{o.GroupVersionKind().GroupKind(), o.GetNamespace(), o.GetName()}
}

// objects decodes a manifest as Helm's kube client builds it: documents
// without a namespace get the release's when their kind is namespaced.
func (a *Auditor) objects(manifest string, rec Record) ([]manifestObject, error) {
	decoder := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	var objects []manifestObject
	for {
		var doc map[string]any
		if err := decoder.Decode(&doc); errors.Is(err, io.EOF) {
			return objects, nil
		} else if err != nil {
			return nil, fmt.Errorf("reading the manifest of revision %d: %w", rec.Version, err)
		}
		if len(doc) == 0 {
			continue
		}
		obj := &unstructured.Unstructured{Object: doc}
		mapping, err := a.Cluster.mapping(obj)
		if err != nil {
			return nil, err
		}
		if !namespaced(mapping) {
			obj.SetNamespace("")
		} else if obj.GetNamespace() == "" {
			obj.SetNamespace(rec.Namespace)
		}
		objects = append(objects, manifestObject{obj, mapping})
	}
}

// verdict sends, for every target object that exists and would change, the
// request stock Helm would send, as a dry run. Objects the release would
// create or delete are not judged.
func (a *Auditor) verdict(ctx context.Context, method Method, original, targets []manifestObject, target Record) (Verdict, error) {
	originals := map[objectKey]*unstructured.Unstructured{}
	for _, o := range original {
		originals[keyOf(o)] = o.Unstructured
	}
	var failed []Object
	var noRBACNote string
	sent := 0
	for _, t := range targets {
		live, err := a.Cluster.live(ctx, t.mapping, t.GetNamespace(), t.GetName())
		if err != nil {
			return Verdict{}, err
		}
		if live == nil {
			continue
		}
		obj := t.DeepCopy()
		helmMetadata(obj, target.Name, target.Namespace)
		req, err := newRequest(method, t.mapping, originals[keyOf(t)], obj, live)
		if err != nil {
			return Verdict{}, err
		}
		if req == nil {
			continue
		}
		sent++
		o, rbacErr, err := a.judgeRequest(ctx, req)
		if err != nil {
			return Verdict{}, err
		}
		if rbacErr != nil && noRBACNote == "" {
			noRBACNote = "no RBAC to send the dry runs (they need the write verbs), judged by pvc-guard's rules: " + rbacErr.Error()
		}
		if o != nil {
			failed = append(failed, *o)
		}
	}
	return merge(sent, failed, noRBACNote != "", noRBACNote), nil
}

// judgeRequest sends one dry run and returns the object's failure, if any.
// Without RBAC for it, pvc-guard's rules judge, and the RBAC error is
// returned beside the verdict.
func (a *Auditor) judgeRequest(ctx context.Context, req *request) (failure *Object, rbacErr error, _ error) {
	o := &Object{Kind: req.kind, Namespace: req.namespace, Name: req.name}
	dryRunErr := a.Cluster.dryRun(ctx, req, a.ForceConflicts)
	switch judge(dryRunErr) {
	case accepted:
		return nil, nil, nil
	case undecided:
		o.Unknown, o.Error = true, dryRunErr.Error()
		return o, nil, nil
	case refused:
		o.Error = dryRunErr.Error()
		if o.Fields = conflictFields(dryRunErr); o.Fields != nil {
			return o, nil, nil
		}
		fields, err := a.ruleFields(ctx, req)
		if err != nil {
			return nil, nil, err
		}
		if o.Fields = fields; o.Fields == nil {
			o.Fields = specDiff(req.result, req.live)
		}
		return o, nil, nil
	}
	fields, err := a.ruleFields(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	if fields == nil {
		return nil, dryRunErr, nil
	}
	o.Fields, o.Error = fields, "pvc-guard's rules: the request would change immutable fields"
	return o, dryRunErr, nil
}

// ruleFields are the fields pvc-guard's rules say may not change from the
// live object to the request's result: its renderer, given the result as a
// manifest, rewrites or refuses exactly those.
func (a *Auditor) ruleFields(ctx context.Context, req *request) ([]string, error) {
	doc, err := yaml.Marshal(req.result)
	if err != nil {
		return nil, err
	}
	_, report, err := a.renderer(req.namespace).Render(ctx, doc)
	var conflict *renderer.ConflictError
	if errors.As(err, &conflict) {
		report = conflict.Report
	} else if err != nil {
		return nil, fmt.Errorf("judging %s %s by pvc-guard's rules: %w", req.kind, req.name, err)
	}
	if report == nil {
		return nil, nil
	}
	var fields []string
	for _, findings := range [][]renderer.Finding{report.Rewrites, report.Conflicts} {
		for _, f := range findings {
			fields = append(fields, f.Field)
		}
	}
	return fields, nil
}
