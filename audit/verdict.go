package audit

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/pvc-guard/pvc-guard/internal/objdiff"
)

// judgement is how the API server answered one dry run.
type judgement int

const (
	accepted judgement = iota
	refused
	undecided // the server could not say: a webhook without dry-run support, a timeout
	noRBAC    // the caller may not send the request, even as a dry run
)

// judge reads a dry run's error. A webhook's refusal is a refusal, but a
// webhook that cannot take dry runs says nothing about the request.
func judge(err error) judgement {
	var status apierrors.APIStatus
	switch {
	case err == nil:
		return accepted
	case !errors.As(err, &status):
		return undecided // no answer from the API server
	case refusesDryRuns(err.Error()):
		return undecided
	case apierrors.IsForbidden(err) && !strings.Contains(err.Error(), "admission webhook"):
		return noRBAC
	case apierrors.IsInvalid(err), apierrors.IsConflict(err), apierrors.IsForbidden(err),
		apierrors.IsBadRequest(err), apierrors.IsNotAcceptable(err):
		return refused
	}
	return undecided
}

// refusesDryRuns tells a webhook that will not judge dry runs (the API
// server's own message for webhooks without dry-run support, or a denial
// that names the dry run) from one that judged the request.
func refusesDryRuns(msg string) bool {
	if strings.Contains(msg, "does not support dry run") {
		return true
	}
	lower := strings.ToLower(msg)
	return strings.Contains(lower, "admission webhook") && strings.Contains(lower, "denied") &&
		(strings.Contains(lower, "dry run") || strings.Contains(lower, "dryrun") || strings.Contains(lower, "dry-run"))
}

// conflictFields are the fields a server-side apply conflict names
// (".spec.resources.requests.storage"), as dotted paths.
func conflictFields(err error) []string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || !apierrors.IsConflict(err) || status.Status().Details == nil {
		return nil
	}
	var fields []string
	for _, cause := range status.Status().Details.Causes {
		if cause.Field != "" {
			fields = append(fields, strings.TrimPrefix(cause.Field, "."))
		}
	}
	return fields
}

// specDiff lists the dotted paths under spec where result differs from
// live: the request's own changes, for kinds pvc-guard has no rules for.
func specDiff(result, live map[string]any) []string {
	return objdiff.Paths(objdiff.Changes("spec", live["spec"], result["spec"]))
}

// merge folds the verdicts of sent requests into one: ok when no object's
// request fails, unknown when every failing one is undecided.
func merge(sent int, objects []Object, usedRules bool, note string) Verdict {
	v := Verdict{OK: len(objects) == 0, Basis: DryRun, Objects: objects}
	switch {
	case usedRules:
		v.Basis, v.Note = Rules, note
	case sent == 0:
		v.Basis = Unchanged
	}
	v.Unknown = len(objects) > 0
	var errs []string
	fields := map[string]bool{}
	for _, o := range objects {
		v.Unknown = v.Unknown && o.Unknown
		for _, f := range o.Fields {
			fields[f] = true
		}
		errs = append(errs, fmt.Sprintf("%s %s: %s", o.Kind, o.Name, o.Error))
	}
	for f := range fields {
		v.Fields = append(v.Fields, f)
	}
	slices.Sort(v.Fields)
	v.Error = strings.Join(errs, "; ")
	return v
}
