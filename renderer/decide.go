package renderer

import (
	"fmt"
	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
)

// docEdits collects the edits and notes for one document.
type docEdits struct {
	doc    yamltext.Document
	parsed yamltext.Parsed
	edits  []yamltext.Edit
	notes  []string
}

// decideAll decides every field, on every CPU, then fills the report and
// returns the edits of each document to rewrite, in stream order.
func (r *Renderer) decideAll(fields []field, related func(GroupKind, ObjectKey) map[string]any, report *Report) []*docEdits {
	outcomes := make([]outcome, len(fields))
	yamltext.Parallel(len(fields), func(i int) { outcomes[i] = r.outcomeOf(fields[i], related) })
	var edits []*docEdits
	for i, o := range outcomes {
		if o.conflict != nil {
			report.Conflicts = append(report.Conflicts, *o.conflict)
		}
		if o.rewrite == nil {
			continue
		}
		report.Rewrites = append(report.Rewrites, *o.rewrite)
		obj := fields[i].obj
		de := lastEdits(edits, obj.doc)
		if de == nil {
			de = &docEdits{doc: obj.doc, parsed: obj.parsed}
			edits = append(edits, de)
		}
		de.edits = append(de.edits, o.edit)
		obj.edits = append(obj.edits, o.edit)
		de.notes = append(de.notes, o.note)
	}
	return edits
}

// outcome is what one field's decision puts in the report and the stream:
// nothing when the chart's value stands.
type outcome struct {
	conflict *Finding // for the report's conflicts
	rewrite  *Finding // for the report's rewrites, with the edit and its note
	edit     yamltext.Edit
	note     string
}

// outcomeOf decides one field; it reads only the field and related.
func (r *Renderer) outcomeOf(f field, related func(GroupKind, ObjectKey) map[string]any) outcome {
	chart, live, values, ruling := f.decide(related)
	if ruling.verdict == keepChart {
		return outcome{}
	}
	obj := f.obj
	finding := Finding{Document: obj.doc.Index, Source: obj.source, APIVersion: obj.apiVersion, Kind: obj.kind.Kind,
		Namespace: obj.key.Namespace, Name: obj.key.Name, Field: f.Path.String(), Rule: f.rule.Name,
		Chart: chart, Live: live, Reason: ruling.why}
	var o outcome
	if ruling.verdict == conflict {
		finding.Fix = fixFor(f.rule)
		finding.keepLiveRefused = ruling.keepLiveRefused != ""
		if finding.keepLiveRefused {
			finding.Fix = "--on-conflict=keep-live cannot keep it: " + ruling.keepLiveRefused + "; " + finding.Fix
		}
		reported := finding
		o.conflict = &reported
		if r.conflictPolicy() != KeepLive || finding.keepLiveRefused {
			return o
		}
		finding.Reason = "conflict resolved by --on-conflict=keep-live: " + ruling.why
	}
	o.rewrite = &finding
	o.edit = yamltext.Edit{Item: obj.item, Path: f.Path, Value: live, Remove: !values.liveSet}
	o.note = note(finding)
	return o
}

// lastEdits returns the edits of doc if it is the last document edited:
// objects come in stream order, so a document's objects are consecutive.
func lastEdits(edits []*docEdits, doc yamltext.Document) *docEdits {
	if n := len(edits); n > 0 && edits[n-1].doc.Index == doc.Index {
		return edits[n-1]
	}
	return nil
}

// note is the comment line a rewritten document carries for one field.
func note(f Finding) string {
	return fmt.Sprintf("%s of %s = %s from the live %s (%s: %s)", f.Field, f.Name, FormatValue(f.Live), f.Kind, f.Rule, f.Reason)
}
