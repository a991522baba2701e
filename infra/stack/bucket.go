package stack

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Bucket is an AWS::S3::Bucket.
type Bucket struct {
	LogicalID string
	// Condition names the template condition the bucket depends on; "" when unconditional.
	Condition      string
	CORSRules      []CORSRule
	LifecycleRules []LifecycleRule
	// PublicAccessBlock is nil when not declared.
	PublicAccessBlock *PublicAccessBlock
	// ObjectOwnership is OwnershipControls.Rules[0].ObjectOwnership, e.g. BucketOwnerEnforced.
	ObjectOwnership string
	// SSEAlgorithm is the default encryption, AES256 or aws:kms; KMSMasterKeyID goes with aws:kms.
	SSEAlgorithm   string
	KMSMasterKeyID string
	// Versioning is VersioningConfiguration.Status: Enabled, Suspended, or "".
	Versioning string
}

// CORSRule is an entry of CorsConfiguration.CorsRules. AllowedOrigins may be a list parameter; expand
// it with Resources.ResolveList.
type CORSRule struct {
	ID             string
	AllowedMethods []string
	AllowedOrigins []Value
	AllowedHeaders []string
	ExposedHeaders []string
	// MaxAge is in seconds; 0 when not declared.
	MaxAge int
}

// LifecycleRule is an entry of LifecycleConfiguration.Rules. Day counts are 0 when not declared.
type LifecycleRule struct {
	ID     string
	Status string
	Prefix string
	// ExpirationInDays expires current objects.
	ExpirationInDays int
	// AbortIncompleteMultipartUploadDays is AbortIncompleteMultipartUpload.DaysAfterInitiation.
	AbortIncompleteMultipartUploadDays int
	// NoncurrentVersionExpirationInDays expires noncurrent versions of versioned objects.
	NoncurrentVersionExpirationInDays int
}

// PublicAccessBlock is PublicAccessBlockConfiguration.
type PublicAccessBlock struct {
	BlockPublicAcls       bool
	BlockPublicPolicy     bool
	IgnorePublicAcls      bool
	RestrictPublicBuckets bool
}

func (t *Template) parseBucket(id string, res, props *yaml.Node) (Bucket, error) {
	b := Bucket{LogicalID: id}
	var err error
	if b.Condition, err = condition(res, id); err != nil {
		return b, err
	}
	if b.CORSRules, err = t.corsRules(path(props, "CorsConfiguration", "CorsRules")); err != nil {
		return b, fmt.Errorf("CorsConfiguration: %w", err)
	}
	if b.LifecycleRules, err = t.lifecycleRules(path(props, "LifecycleConfiguration", "Rules")); err != nil {
		return b, fmt.Errorf("LifecycleConfiguration: %w", err)
	}
	if pab := get(props, "PublicAccessBlockConfiguration"); pab != nil {
		p := &PublicAccessBlock{}
		for _, f := range []struct {
			name string
			dst  *bool
		}{
			{"BlockPublicAcls", &p.BlockPublicAcls},
			{"BlockPublicPolicy", &p.BlockPublicPolicy},
			{"IgnorePublicAcls", &p.IgnorePublicAcls},
			{"RestrictPublicBuckets", &p.RestrictPublicBuckets},
		} {
			if *f.dst, err = t.plainBool(get(pab, f.name), f.name, false); err != nil {
				return b, err
			}
		}
		b.PublicAccessBlock = p
	}
	ownership, err := items(path(props, "OwnershipControls", "Rules"))
	if err != nil {
		return b, fmt.Errorf("OwnershipControls: %w", err)
	}
	if len(ownership) > 0 {
		if b.ObjectOwnership, err = t.plainString(get(ownership[0], "ObjectOwnership"), "ObjectOwnership"); err != nil {
			return b, err
		}
	}
	enc, err := items(path(props, "BucketEncryption", "ServerSideEncryptionConfiguration"))
	if err != nil {
		return b, fmt.Errorf("BucketEncryption: %w", err)
	}
	if len(enc) > 0 {
		def := get(enc[0], "ServerSideEncryptionByDefault")
		if b.SSEAlgorithm, err = t.plainString(get(def, "SSEAlgorithm"), "SSEAlgorithm"); err != nil {
			return b, err
		}
		if b.KMSMasterKeyID, err = t.plainString(get(def, "KMSMasterKeyID"), "KMSMasterKeyID"); err != nil {
			return b, err
		}
	}
	if b.Versioning, err = t.plainString(path(props, "VersioningConfiguration", "Status"), "VersioningConfiguration.Status"); err != nil {
		return b, err
	}
	return b, nil
}

func (t *Template) corsRules(n *yaml.Node) ([]CORSRule, error) {
	elems, err := items(n)
	if err != nil {
		return nil, err
	}
	var out []CORSRule
	for _, e := range elems {
		r := CORSRule{}
		if r.ID, err = t.plainString(get(e, "Id"), "Id"); err != nil {
			return nil, err
		}
		if r.AllowedMethods, err = strs(get(e, "AllowedMethods"), "AllowedMethods"); err != nil {
			return nil, err
		}
		if r.AllowedOrigins, err = parseValues(get(e, "AllowedOrigins")); err != nil {
			return nil, fmt.Errorf("AllowedOrigins: %w", err)
		}
		if r.AllowedHeaders, err = strs(get(e, "AllowedHeaders"), "AllowedHeaders"); err != nil {
			return nil, err
		}
		if r.ExposedHeaders, err = strs(get(e, "ExposedHeaders"), "ExposedHeaders"); err != nil {
			return nil, err
		}
		if r.MaxAge, err = t.plainInt(get(e, "MaxAge"), "MaxAge", 0); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (t *Template) lifecycleRules(n *yaml.Node) ([]LifecycleRule, error) {
	elems, err := items(n)
	if err != nil {
		return nil, err
	}
	var out []LifecycleRule
	for _, e := range elems {
		r := LifecycleRule{}
		if r.ID, err = t.plainString(get(e, "Id"), "Id"); err != nil {
			return nil, err
		}
		if r.Status, err = t.plainString(get(e, "Status"), "Status"); err != nil {
			return nil, err
		}
		if r.Prefix, err = t.plainString(get(e, "Prefix"), "Prefix"); err != nil {
			return nil, err
		}
		if r.ExpirationInDays, err = t.plainInt(get(e, "ExpirationInDays"), "ExpirationInDays", 0); err != nil {
			return nil, err
		}
		if r.AbortIncompleteMultipartUploadDays, err = t.plainInt(path(e, "AbortIncompleteMultipartUpload", "DaysAfterInitiation"), "DaysAfterInitiation", 0); err != nil {
			return nil, err
		}
		if r.NoncurrentVersionExpirationInDays, err = t.plainInt(path(e, "NoncurrentVersionExpiration", "NoncurrentDays"), "NoncurrentDays", 0); err != nil {
			return nil, err
		}
		if r.NoncurrentVersionExpirationInDays == 0 {
			// The older spelling of the same setting.
			if r.NoncurrentVersionExpirationInDays, err = t.plainInt(get(e, "NoncurrentVersionExpirationInDays"), "NoncurrentVersionExpirationInDays", 0); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}
