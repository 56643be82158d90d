package storage

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyauth "github.com/aws/smithy-go/auth"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	"github.com/aws/smithy-go/middleware"
)

// endpointView is what the SDK takes from a resolved endpoint: the URL,
// the headers, the auth schemes and their signing properties (signing
// name and region, double encoding), and the other properties.
func endpointView(e smithyendpoints.Endpoint) string {
	s := fmt.Sprintf("url=%s headers=%v", e.URI.String(), e.Headers)
	props := e.Properties.Values()
	if opts, ok := smithyauth.GetAuthOptions(&e.Properties); ok {
		for _, o := range opts {
			s += fmt.Sprintf(" auth=%s identity=%v signer=%v", o.SchemeID, o.IdentityProperties.Values(), o.SignerProperties.Values())
		}
	}
	for k, v := range props {
		if _, ok := v.([]*smithyauth.Option); !ok {
			s += fmt.Sprintf(" %v=%v", k, v)
		}
	}
	return s
}

// The cache answers exactly as the rules engine, on the first request for
// a bucket and on every later one, across path-style and virtual-host
// addressing, custom endpoints with and without a path, AWS regions, FIPS,
// dual-stack and acceleration, ARNs and S3 Express buckets; errors pass
// through.
func TestEndpointCacheMatchesRulesEngine(t *testing.T) {
	engine := s3.NewDefaultEndpointResolverV2()
	cache := &endpointCache{next: engine}
	ctx := context.Background()
	endpoints := []*string{nil, aws.String("http://127.0.0.1:9000"), aws.String("https://s3.example.com"),
		aws.String("https://s3.example.com/base/path/"), aws.String("http://localhost:4566/x")}
	regions := []*string{aws.String("us-east-1"), aws.String("eu-west-1"), aws.String("aws-global"), aws.String("cn-north-1"), aws.String("us-gov-west-1"), aws.String("bad region"), nil}
	buckets := []*string{aws.String("bucket"), aws.String("my.bucket.name"), aws.String("b-1"), aws.String("UPPER"),
		aws.String("ab"), aws.String("with_underscore"), aws.String("mybucket--use1-az4--x-s3"),
		aws.String("arn:aws:s3:us-east-1:123456789012:accesspoint/ap"), nil}
	var n, errs int
	for _, ep := range endpoints {
		for _, region := range regions {
			for _, bucket := range buckets {
				for flags := range 16 {
					p := s3.EndpointParameters{
						Bucket: bucket, Region: region, Endpoint: ep,
						ForcePathStyle: aws.Bool(flags&1 != 0), UseFIPS: aws.Bool(flags&2 != 0),
						UseDualStack: aws.Bool(flags&4 != 0), Accelerate: aws.Bool(flags&8 != 0),
						Key: aws.String(fmt.Sprintf("key-%d", n)),
					}
					n++
					want, wantErr := engine.ResolveEndpoint(ctx, p)
					for try := range 2 {
						got, err := cache.ResolveEndpoint(ctx, p)
						if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
							t.Fatalf("%+v try %d: error %v, rules engine's %v", p, try, err, wantErr)
						}
						if err != nil {
							errs++
							continue
						}
						if g, w := endpointView(got), endpointView(want); g != w {
							t.Fatalf("%s %s %s flags %d try %d:\n got %s\nwant %s", aws.ToString(ep), aws.ToString(region), aws.ToString(bucket), flags, try, g, w)
						}
					}
				}
			}
		}
	}
	if errs == 0 || errs == 2*n || cache.n.Load() == 0 {
		t.Errorf("%d of %d resolutions failed, %d cached: the cases miss either errors or answers", errs, 2*n, cache.n.Load())
	}
}

// Every parameter of the rules engine is part of the cache's key, but
// the object's name (Key, Prefix, CopySource), which the engine does not
// read: an SDK update that adds a parameter fails here until keyOf takes
// it.
func TestEndpointKeyCoversParams(t *testing.T) {
	notRead := map[string]bool{"Key": true, "Prefix": true, "CopySource": true}
	typ := reflect.TypeOf(s3.EndpointParameters{})
	for i := range typ.NumField() {
		f := typ.Field(i)
		if notRead[f.Name] {
			continue
		}
		// Two parameter sets differing in this field alone must
		// have different keys.
		var a, b s3.EndpointParameters
		fa, fb := reflect.ValueOf(&a).Elem().Field(i), reflect.ValueOf(&b).Elem().Field(i)
		switch f.Type {
		case reflect.TypeOf((*string)(nil)):
			fb.Set(reflect.ValueOf(aws.String("x")))
		case reflect.TypeOf((*bool)(nil)):
			fa.Set(reflect.ValueOf(aws.Bool(false)))
			fb.Set(reflect.ValueOf(aws.Bool(true)))
		default:
			t.Errorf("EndpointParameters.%s has type %s, which keyOf does not know", f.Name, f.Type)
			continue
		}
		if keyOf(a) == keyOf(b) {
			t.Errorf("EndpointParameters.%s is not in the endpoint cache's key", f.Name)
		}
	}
}

// Each answer is a copy of its own: the SDK changes the auth options it
// gets (it merges the modelled ones into them), and requests run at once.
func TestEndpointCacheCopies(t *testing.T) {
	cache := &endpointCache{next: s3.NewDefaultEndpointResolverV2()}
	p := s3.EndpointParameters{Bucket: aws.String("b"), Region: aws.String("us-east-1"),
		Endpoint: aws.String("http://127.0.0.1:9000"), ForcePathStyle: aws.Bool(true)}
	first, err := cache.ResolveEndpoint(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	want := endpointView(first)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			e, err := cache.ResolveEndpoint(context.Background(), p)
			if err != nil {
				t.Error(err)
				return
			}
			opts, _ := smithyauth.GetAuthOptions(&e.Properties)
			for _, o := range opts {
				o.SchemeID = "changed"
				o.SignerProperties.Set("k", "changed")
			}
			e.Properties.Set("k", "changed")
		})
	}
	wg.Wait()
	again, err := cache.ResolveEndpoint(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if got := endpointView(again); got != want {
		t.Errorf("after callers changed their copies:\n got %s\nwant %s", got, want)
	}
}

// Open's client and one given to New both resolve through the cache; a
// resolver of the caller's own is left alone.
func TestLeanClientResolver(t *testing.T) {
	c := s3.New(s3.Options{Region: "us-east-1"})
	if _, ok := leanClient(c, nil).Options().EndpointResolverV2.(*endpointCache); !ok {
		t.Errorf("lean client of a default client resolves with %T", leanClient(c, nil).Options().EndpointResolverV2)
	}
	own := s3.New(s3.Options{Region: "us-east-1", EndpointResolverV2: ownResolver{}})
	if _, ok := leanClient(own, nil).Options().EndpointResolverV2.(ownResolver); !ok {
		t.Errorf("lean client of a client with its own resolver resolves with %T", leanClient(own, nil).Options().EndpointResolverV2)
	}
}

type ownResolver struct{}

func (ownResolver) ResolveEndpoint(ctx context.Context, p s3.EndpointParameters) (smithyendpoints.Endpoint, error) {
	return s3.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, p)
}

// leanStack gives storage's ListObjectsV2 requests its own reply decoder,
// and leaves other operations' decoders to the SDK.
func TestLeanStackSwapsOnlyTheListDecoder(t *testing.T) {
	decoders := map[string]middleware.DeserializeMiddleware{}
	record := func(st *middleware.Stack) error {
		d, _ := st.Deserialize.Get("OperationDeserializer")
		decoders[st.ID()] = d
		return nil
	}
	c := leanClient(cannedClient, []func(*middleware.Stack) error{record})
	ctx := context.WithValue(context.Background(), cannedReply{}, cannedReply{200, `<ListBucketResult><Contents><Key>a</Key></Contents></ListBucketResult>`})
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("b")})
	if err != nil || len(out.Contents) != 1 {
		t.Fatalf("ListObjectsV2 = %+v, %v", out, err)
	}
	c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	if _, ok := decoders["ListObjectsV2"].(listV2Decoder); !ok {
		t.Errorf("ListObjectsV2 decodes with %T; want listV2Decoder", decoders["ListObjectsV2"])
	}
	if d, ok := decoders["HeadObject"]; !ok {
		t.Error("HeadObject: the recorder did not run")
	} else if _, ok := d.(listV2Decoder); ok {
		t.Error("HeadObject decodes with listV2Decoder")
	}
}
