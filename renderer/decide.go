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

// decideAll decides every field, filling the report and returning the
// edits of each document to rewrite, in stream order.
func (r *Renderer) decideAll(fields []field, related func(GroupKind, ObjectKey) map[string]any, report *Report) []*docEdits {
	var edits []*docEdits
	for _, f := range fields {
		chart, live, values, ruling := f.decide(related)
		if ruling.verdict == keepChart {
			continue
		}
		obj := f.obj
		finding := Finding{Document: obj.doc.Index, Source: obj.source, APIVersion: obj.apiVersion, Kind: obj.kind.Kind,
			Namespace: obj.key.Namespace, Name: obj.key.Name, Field: f.Path.String(), Rule: f.rule.Name,
			Chart: chart, Live: live, Reason: ruling.why}
		if ruling.verdict == conflict {
			finding.Fix = fixFor(f.rule)
			finding.keepLiveRefused = ruling.keepLiveRefused != ""
			if finding.keepLiveRefused {
				finding.Fix = "--on-conflict=keep-live cannot keep it: " + ruling.keepLiveRefused + "; " + finding.Fix
			}
			report.Conflicts = append(report.Conflicts, finding)
			if r.conflictPolicy() != KeepLive || finding.keepLiveRefused {
				continue
			}
			finding.Reason = "conflict resolved by --on-conflict=keep-live: " + ruling.why
		}
		report.Rewrites = append(report.Rewrites, finding)
		de := lastEdits(edits, obj.doc)
		if de == nil {
			de = &docEdits{doc: obj.doc, parsed: obj.parsed}
			edits = append(edits, de)
		}
		edit := yamltext.Edit{Item: obj.item, Path: f.Path, Value: live, Remove: !values.liveSet}
		de.edits = append(de.edits, edit)
		obj.edits = append(obj.edits, edit)
		de.notes = append(de.notes, note(finding))
	}
	return edits
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
