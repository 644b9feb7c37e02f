package aadhostlogincorrelation

import "go.opentelemetry.io/collector/pdata/pcommon"

// keepResource returns a copy of res that logons can keep, reusing a recent copy when it is
// the same: a stream comes from a handful of sources, so resources repeat.
func (p *correlationProcessor) keepResource(res pcommon.Resource) pcommon.Resource {
	for _, kept := range p.keptResources {
		if kept.DroppedAttributesCount() == res.DroppedAttributesCount() && kept.Attributes().Equal(res.Attributes()) {
			return kept
		}
	}
	kept := pcommon.NewResource()
	res.CopyTo(kept)
	if len(p.keptResources) < cap(p.keptResources) {
		p.keptResources = append(p.keptResources, kept)
	} else {
		p.keptResources[p.nextKept] = kept
		p.nextKept = (p.nextKept + 1) % len(p.keptResources)
	}
	return kept
}
