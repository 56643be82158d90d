package storage

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyauth "github.com/aws/smithy-go/auth"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	"github.com/aws/smithy-go/middleware"
)

// Small requests spend most of their client CPU in the SDK's per-request
// machinery rather than on the wire. Storage sends its own requests through
// a lean copy of the client (see New): the same options, HTTP client,
// credentials, retryer and the caller's APIOptions, with
//
//   - the endpoint rules engine's answers remembered (endpointCache), which
//     otherwise runs twice for every request (auth scheme, then endpoint);
//   - middleware steps removed that do nothing storage needs, and
//     ListObjectsV2 replies decoded by storage's own decoder (leanStack).
//
// Client() still returns the client as the caller would expect it, with
// nothing removed. Both Open's client and one given to New are trimmed so.

// leanClient returns the copy of c that storage sends its requests with.
func leanClient(c *s3.Client, apiOptions []func(*middleware.Stack) error) *s3.Client {
	return s3.New(c.Options(), func(o *s3.Options) {
		if isDefaultResolver(o.EndpointResolverV2) {
			o.EndpointResolverV2 = &endpointCache{next: o.EndpointResolverV2}
		}
		// Ours before the caller's: the caller's middleware sees the
		// stack as it is sent, and has the last word on it.
		opts := make([]func(*middleware.Stack) error, 0, len(o.APIOptions)+1+len(apiOptions))
		opts = append(opts, o.APIOptions...)
		opts = append(opts, leanStack)
		o.APIOptions = append(opts, apiOptions...)
	})
}

// leanStack removes the middleware storage does not need from a request's
// stack. A step that is not there (another operation, another SDK
// version) is skipped; each is looked up first, as Remove builds an error
// for a missing one.
func leanStack(st *middleware.Stack) error {
	if st.ID() == "ListObjectsV2" {
		if err := swapListDecoder(st); err != nil {
			return err
		}
	}
	// The SDK's response checksum validation: storage verifies bodies
	// itself (verify.go); it would hash every body a second time and, on
	// servers that return a whole object's checksum on a ranged reply,
	// fail valid ranges. SetupOutputContext only feeds it.
	if _, ok := st.Deserialize.Get("AWSChecksum:ValidateOutputPayloadChecksum"); ok {
		st.Deserialize.Remove("AWSChecksum:ValidateOutputPayloadChecksum")
	}
	if _, ok := st.Initialize.Get("AWSChecksum:SetupOutputContext"); ok {
		st.Initialize.Remove("AWSChecksum:SetupOutputContext")
	}
	for _, id := range leanBuildSteps {
		if _, ok := st.Build.Get(id); ok {
			st.Build.Remove(id)
		}
	}
	return nil
}

// leanBuildSteps are removed from every request of storage's:
//
//   - ClientRequestID: an invocation ID header (a random UUID per call)
//     for AWS's own tracking of retries;
//   - RecursionDetection: forwards an AWS Lambda function's
//     X-Amzn-Trace-Id, read from the environment on every request.
var leanBuildSteps = []string{"ClientRequestID", "RecursionDetection"}

// isDefaultResolver reports whether r is the SDK's own rules engine (whose
// answers depend only on its parameters).
func isDefaultResolver(r s3.EndpointResolverV2) bool {
	return r != nil && reflect.TypeOf(r) == defaultResolverType
}

var defaultResolverType = reflect.TypeOf(s3.NewDefaultEndpointResolverV2())

// endpointCache remembers the answers of the SDK's endpoint rules engine.
// The engine is a pure function of its parameters, and of those it reads
// neither Key, Prefix nor CopySource (the object's name): so one bucket's
// requests all resolve alike, and the answer is computed once per bucket
// and settings. Each caller gets its own copy of the answer's properties,
// which the SDK changes as it signs. Errors are not remembered.
type endpointCache struct {
	next    s3.EndpointResolverV2
	entries sync.Map // endpointKey → smithyendpoints.Endpoint
	n       atomic.Int32
}

// maxEndpointCache bounds the cache: past it, answers are computed each
// time (a program touching that many buckets).
const maxEndpointCache = 1024

// endpointKey holds every parameter of the rules engine that it reads.
// TestEndpointKeyCoversParams fails when an SDK update adds one.
type endpointKey struct {
	bucket, region, endpoint                                  optString
	useFIPS, useDualStack, forcePathStyle, accelerate         optBool
	useGlobalEndpoint, useObjectLambdaEndpoint                optBool
	disableAccessPoints, disableMultiRegionAccessPoints       optBool
	useArnRegion, useS3ExpressControlEndpoint, disableExpress optBool
}

type optString struct {
	set bool
	v   string
}

type optBool struct{ set, v bool }

func optS(p *string) optString {
	if p == nil {
		return optString{}
	}
	return optString{true, *p}
}

func optB(p *bool) optBool {
	if p == nil {
		return optBool{}
	}
	return optBool{true, *p}
}

func keyOf(p s3.EndpointParameters) endpointKey {
	return endpointKey{
		bucket: optS(p.Bucket), region: optS(p.Region), endpoint: optS(p.Endpoint),
		useFIPS: optB(p.UseFIPS), useDualStack: optB(p.UseDualStack),
		forcePathStyle: optB(p.ForcePathStyle), accelerate: optB(p.Accelerate),
		useGlobalEndpoint: optB(p.UseGlobalEndpoint), useObjectLambdaEndpoint: optB(p.UseObjectLambdaEndpoint),
		disableAccessPoints: optB(p.DisableAccessPoints), disableMultiRegionAccessPoints: optB(p.DisableMultiRegionAccessPoints),
		useArnRegion: optB(p.UseArnRegion), useS3ExpressControlEndpoint: optB(p.UseS3ExpressControlEndpoint),
		disableExpress: optB(p.DisableS3ExpressSessionAuth),
	}
}

// ResolveEndpoint answers as the rules engine does.
func (c *endpointCache) ResolveEndpoint(ctx context.Context, p s3.EndpointParameters) (smithyendpoints.Endpoint, error) {
	k := keyOf(p)
	if e, ok := c.entries.Load(k); ok {
		return copyEndpoint(e.(smithyendpoints.Endpoint)), nil
	}
	e, err := c.next.ResolveEndpoint(ctx, p)
	if err != nil || !cacheable(e) {
		return e, err
	}
	if c.n.Load() < maxEndpointCache {
		if _, loaded := c.entries.LoadOrStore(k, copyEndpoint(e)); !loaded {
			c.n.Add(1)
		}
	}
	return e, nil
}

// cacheable reports whether copyEndpoint can copy e deeply: its properties
// are auth options and plain values.
func cacheable(e smithyendpoints.Endpoint) bool {
	for _, v := range e.Properties.Values() {
		switch v := v.(type) {
		case string, bool, int, int64:
		case []*smithyauth.Option:
			for _, o := range v {
				if !plainProps(&o.IdentityProperties) || !plainProps(&o.SignerProperties) {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}

func plainProps(p *smithy.Properties) bool {
	for _, v := range p.Values() {
		switch v.(type) {
		case string, bool, int, int64:
		default:
			return false
		}
	}
	return true
}

// copyEndpoint copies e so that no map or auth option is shared.
func copyEndpoint(e smithyendpoints.Endpoint) smithyendpoints.Endpoint {
	c := smithyendpoints.Endpoint{URI: e.URI}
	if len(e.Headers) > 0 {
		c.Headers = e.Headers.Clone()
	}
	c.Properties.SetAll(&e.Properties)
	if opts, ok := smithyauth.GetAuthOptions(&e.Properties); ok {
		copied := make([]*smithyauth.Option, len(opts))
		for i, o := range opts {
			n := &smithyauth.Option{SchemeID: o.SchemeID}
			n.IdentityProperties.SetAll(&o.IdentityProperties)
			n.SignerProperties.SetAll(&o.SignerProperties)
			copied[i] = n
		}
		smithyauth.SetAuthOptions(&c.Properties, copied)
	}
	if e.URI.User != nil {
		u := *e.URI.User
		c.URI.User = &u
	}
	return c
}
