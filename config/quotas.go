package config

import (
	"fmt"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// quotaSchema is the attributes of the quotas block and of company blocks.
var quotaSchema = attrSchema("webhooks", "stored_bytes", "publish_rate", "publish_burst")

// Limit is one quota of one company and the setting it comes from, so an
// over-quota answer can name it.
type Limit struct {
	Value   int64
	Setting string // "quotas.webhooks", `webhooks of company "100"`, ...
}

// CompanyQuotas are one company's limits.
type CompanyQuotas struct {
	Webhooks, StoredBytes, PublishRate, PublishBurst Limit
}

// QuotasOf returns the limits of a company: its company block's, else the
// quotas block's.
func (c *Config) QuotasOf(company int64) CompanyQuotas {
	q := c.Quotas
	// Whole literals, not "quotas." + name: this runs on every publish.
	out := CompanyQuotas{
		Webhooks:     Limit{Value: int64(q.Webhooks), Setting: "quotas.webhooks"},
		StoredBytes:  Limit{Value: q.StoredBytes, Setting: "quotas.stored_bytes"},
		PublishRate:  Limit{Value: int64(q.PublishRate), Setting: "quotas.publish_rate"},
		PublishBurst: Limit{Value: int64(q.PublishBurst), Setting: "quotas.publish_burst"},
	}
	for _, co := range c.Companies {
		if co.ID != company {
			continue
		}
		own := func(dst *Limit, name string, v int64) {
			*dst = Limit{Value: v, Setting: describe(companyPrefix(co.ID), name)}
		}
		if co.Webhooks != nil {
			own(&out.Webhooks, "webhooks", int64(*co.Webhooks))
		}
		if co.StoredBytes != nil {
			own(&out.StoredBytes, "stored_bytes", *co.StoredBytes)
		}
		if co.PublishRate != nil {
			own(&out.PublishRate, "publish_rate", int64(*co.PublishRate))
		}
		if co.PublishBurst != nil {
			own(&out.PublishBurst, "publish_burst", int64(*co.PublishBurst))
		}
	}
	return out
}

// companyPrefix names a company block in messages: `company "100"`.
func companyPrefix(id int64) string { return fmt.Sprintf("company %q", strconv.FormatInt(id, 10)) }

// decodeQuotas decodes the quotas block.
func (d *decoder) decodeQuotas(hb hcl.Body, q *Quotas) {
	b, _ := d.content(hb, quotaSchema, "quotas")
	b.atLeast(b.int("webhooks", &q.Webhooks), "webhooks", int64(q.Webhooks), 0)
	b.atLeast(b.int64("stored_bytes", &q.StoredBytes), "stored_bytes", q.StoredBytes, 0)
	b.atLeast(b.int("publish_rate", &q.PublishRate), "publish_rate", int64(q.PublishRate), 0)
	b.atLeast(b.int("publish_burst", &q.PublishBurst), "publish_burst", int64(q.PublishBurst), 1)
}

// decodeCompany decodes a company block; its label is the company id.
func (d *decoder) decodeCompany(blk *hcl.Block, cfg *Config) {
	label := blk.Labels[0]
	id, err := strconv.ParseInt(label, 10, 64)
	if err != nil || id < 1 {
		rng := blk.DefRange
		if len(blk.LabelRanges) > 0 {
			rng = blk.LabelRanges[0]
		}
		d.errorf(rng, fmt.Sprintf("invalid company id %q", label), "the label of a company block is the company's id, a whole number of 1 or more, such as company \"100\"")
		return
	}
	c := Company{ID: id, Range: blk.DefRange}
	b, _ := d.content(blk.Body, quotaSchema, companyPrefix(id))
	c.Webhooks = optInt[int](b, "webhooks", 0)
	c.StoredBytes = optInt[int64](b, "stored_bytes", 0)
	c.PublishRate = optInt[int](b, "publish_rate", 0)
	c.PublishBurst = optInt[int](b, "publish_burst", 1)
	cfg.Companies = append(cfg.Companies, c)
}

// optInt decodes an integer attribute of at least min that may be left
// out (nil). A wrong value is a diagnostic, so its value does not matter.
func optInt[T int | int64](b *body, name string, min int64) *T {
	var v T
	attr := b.into(name, cty.Number, &v)
	if attr == nil {
		return nil
	}
	b.atLeast(attr, name, int64(v), min)
	return &v
}

// validateQuotas checks what relates company blocks to each other.
func (d *decoder) validateQuotas(cfg *Config) {
	seen := map[int64]hcl.Range{}
	for _, c := range cfg.Companies {
		if prev, dup := seen[c.ID]; dup {
			d.errorf(c.Range, fmt.Sprintf("duplicate company %d", c.ID),
				"company %d is already defined at %s; merge the two blocks", c.ID, where(prev))
			continue
		}
		seen[c.ID] = c.Range
	}
}
