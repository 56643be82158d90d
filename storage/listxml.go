package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithytime "github.com/aws/smithy-go/time"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The SDK decodes a ListObjectsV2 reply with encoding/xml, token by token,
// at about 9 µs of CPU per key listed: most of a listing's client CPU, and
// on loopback a quarter of each page's round trip, which a listing waits
// for page after page. swapListDecoder (part of leanStack) swaps in
// listV2Decoder, a decoder for the one document a listing reads, at a
// fraction of that; error replies go to the SDK's decoder as before.

// swapListDecoder puts listV2Decoder in place of the SDK's decoder on a
// ListObjectsV2 request's stack.
func swapListDecoder(st *middleware.Stack) error {
	sdk, ok := st.Deserialize.Get("OperationDeserializer")
	if !ok {
		return errors.New("storage: the SDK's ListObjectsV2 has no OperationDeserializer")
	}
	_, err := st.Deserialize.Swap("OperationDeserializer", listV2Decoder{sdk: sdk})
	return err
}

// listV2Decoder decodes a successful ListObjectsV2 reply with
// parseListV2, and hands anything else to sdk, the SDK's decoder.
type listV2Decoder struct {
	sdk middleware.DeserializeMiddleware
}

func (listV2Decoder) ID() string { return "OperationDeserializer" }

// listBodies holds the buffers reply bodies are read into.
var listBodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (d listV2Decoder) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleDeserialize(ctx, in)
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if err != nil || !ok || resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return d.sdk.HandleDeserialize(ctx, in, middleware.DeserializeHandlerFunc(
			func(context.Context, middleware.DeserializeInput) (middleware.DeserializeOutput, middleware.Metadata, error) {
				return out, md, err
			}))
	}
	defer resp.Body.Close()
	buf := listBodies.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 4<<20 {
			buf.Reset()
			listBodies.Put(buf)
		}
	}()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return out, md, &smithy.DeserializationError{Err: fmt.Errorf("failed to read response body: %w", err)}
	}
	output := &s3.ListObjectsV2Output{}
	if err := parseListV2(buf.Bytes(), output); err != nil {
		return out, md, &smithy.DeserializationError{
			Err:      fmt.Errorf("failed to decode response body, %w", err),
			Snapshot: bytes.Clone(buf.Bytes()[:min(buf.Len(), 1024)]),
		}
	}
	if v := resp.Header.Get("X-Amz-Request-Charged"); v != "" {
		output.RequestCharged = types.RequestCharged(v)
	}
	out.Result = output
	return out, md, nil
}

// parseListV2 decodes a ListBucketResult document into out as the SDK's
// decoder does: element names compared without case and without a
// namespace prefix, elements it does not know skipped, entities and CDATA
// in text resolved, "\r\n" read as "\n". An empty body is an empty
// reply.
func parseListV2(body []byte, out *s3.ListObjectsV2Output) error {
	p := &xmlParser{b: body}
	// The root element: what comes before it is passed over, as the
	// SDK's decoder does; a body without one is an empty reply.
	for {
		k := bytes.IndexByte(p.b[p.i:], '<')
		if k < 0 {
			return nil
		}
		p.i += k
		if err := p.misc(); err != nil {
			return err
		}
		if p.i == len(p.b) {
			return nil
		}
		if p.b[p.i] == '<' && !bytes.HasPrefix(p.b[p.i:], []byte("</")) && !bytes.HasPrefix(p.b[p.i:], []byte("<!")) {
			break
		}
		p.i++ // an end tag or other markup before any element
	}
	if _, err := p.open(); err != nil {
		return err
	}
	var (
		sizes []int64     // backing for each key's Size
		times []time.Time // and LastModified
		strs  []string    // and Key and ETag
	)
	for {
		name, end, err := p.child()
		if err != nil || end {
			return err
		}
		switch {
		case nameIs(name, "Contents"):
			if len(sizes) == cap(sizes) {
				n := 128
				if out.Contents == nil && out.KeyCount != nil && *out.KeyCount > 0 && *out.KeyCount <= 1000 {
					n = int(*out.KeyCount) // one allocation for the page
					out.Contents = make([]types.Object, 0, n)
				}
				sizes, times, strs = make([]int64, 0, n), make([]time.Time, 0, n), make([]string, 0, 2*n)
			}
			sizes, times, strs = sizes[:len(sizes)+1], times[:len(times)+1], strs[:len(strs)+2]
			o, err := p.object(&sizes[len(sizes)-1], &times[len(times)-1], strs[len(strs)-2:])
			if err != nil {
				return err
			}
			out.Contents = append(out.Contents, o)
		case nameIs(name, "CommonPrefixes"):
			var cp types.CommonPrefix
			for {
				name, end, err := p.child()
				if err != nil {
					return err
				}
				if end {
					break
				}
				if nameIs(name, "Prefix") {
					s, err := p.text()
					if err != nil {
						return err
					}
					cp.Prefix = &s
				} else if err := p.skip(); err != nil {
					return err
				}
			}
			out.CommonPrefixes = append(out.CommonPrefixes, cp)
		case nameIs(name, "IsTruncated"):
			s, err := p.text()
			if err != nil {
				return err
			}
			v, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("expected IsTruncated to be of type *bool, got %q instead", s)
			}
			out.IsTruncated = &v
		case nameIs(name, "KeyCount"), nameIs(name, "MaxKeys"):
			s, err := p.text()
			if err != nil {
				return err
			}
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return err
			}
			n := int32(v)
			if nameIs(name, "KeyCount") {
				out.KeyCount = &n
			} else {
				out.MaxKeys = &n
			}
		case nameIs(name, "ContinuationToken"), nameIs(name, "NextContinuationToken"),
			nameIs(name, "Delimiter"), nameIs(name, "EncodingType"), nameIs(name, "Name"),
			nameIs(name, "Prefix"), nameIs(name, "StartAfter"):
			s, err := p.text()
			if err != nil {
				return err
			}
			switch {
			case nameIs(name, "ContinuationToken"):
				out.ContinuationToken = &s
			case nameIs(name, "NextContinuationToken"):
				out.NextContinuationToken = &s
			case nameIs(name, "Delimiter"):
				out.Delimiter = &s
			case nameIs(name, "EncodingType"):
				out.EncodingType = types.EncodingType(s)
			case nameIs(name, "Name"):
				out.Name = &s
			case nameIs(name, "Prefix"):
				out.Prefix = &s
			default:
				out.StartAfter = &s
			}
		default:
			if err := p.skip(); err != nil {
				return err
			}
		}
	}
}

// object decodes the children of a Contents element.
// Size, LastModified, Key and ETag are kept in size, modified and
// strs[0:2].
func (p *xmlParser) object(size *int64, modified *time.Time, strs []string) (types.Object, error) {
	var o types.Object
	for {
		name, end, err := p.child()
		if err != nil || end {
			return o, err
		}
		switch {
		case nameIs(name, "Key"), nameIs(name, "ETag"):
			i := 0
			if nameIs(name, "ETag") {
				i = 1
			}
			s, err := p.text()
			if err != nil {
				return o, err
			}
			strs[i] = s
			if i == 0 {
				o.Key = &strs[0]
			} else {
				o.ETag = &strs[1]
			}
		case nameIs(name, "Size"):
			v, err := p.raw()
			if err != nil {
				return o, err
			}
			if *size, err = parseInt64(v); err != nil {
				return o, err
			}
			o.Size = size
		case nameIs(name, "LastModified"):
			v, err := p.raw()
			if err != nil {
				return o, err
			}
			t, ok := parseUTC(v) // the common form, fast
			if !ok {
				if t, err = smithytime.ParseDateTime(string(v)); err != nil {
					return o, err
				}
			}
			*modified = t
			o.LastModified = modified
		case nameIs(name, "StorageClass"):
			v, err := p.raw()
			if err != nil {
				return o, err
			}
			if string(v) == string(types.ObjectStorageClassStandard) {
				o.StorageClass = types.ObjectStorageClassStandard
			} else {
				o.StorageClass = types.ObjectStorageClass(v)
			}
		default:
			if err := p.skip(); err != nil {
				return o, err
			}
		}
	}
}

// nameIs reports whether the element name (its namespace prefix dropped)
// is want, without case, as the SDK's decoder compares.
func nameIs(name []byte, want string) bool {
	// encoding/xml's local name: after the one ':' between two parts.
	if i := bytes.IndexByte(name, ':'); i > 0 && i < len(name)-1 && bytes.IndexByte(name[i+1:], ':') < 0 {
		name = name[i+1:]
	}
	if len(name) != len(want) {
		return false
	}
	if string(name) == want {
		return true
	}
	return bytes.EqualFold(name, []byte(want))
}

// parseUTC reads the date form servers list, "2006-01-02T15:04:05Z" with
// up to nine digits of fraction before the "Z", without allocating; ok
// is false for any other form (and a date out of range).
func parseUTC(v []byte) (t time.Time, ok bool) {
	if len(v) < 20 || v[len(v)-1] != 'Z' || v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' || v[16] != ':' {
		return time.Time{}, false
	}
	num := func(b []byte) int {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(v[0:4]), num(v[5:7]), num(v[8:10])
	hour, minute, sec := num(v[11:13]), num(v[14:16]), num(v[17:19])
	nsec := 0
	if frac := v[19 : len(v)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		if nsec = num(frac[1:]); nsec < 0 {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			nsec *= 10
		}
	}
	if year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // 31 April, 29 February of a common year
		return time.Time{}, false
	}
	return t, true
}

func parseInt64(v []byte) (int64, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || len(v) > 18 {
		return strconv.ParseInt(string(v), 10, 64)
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return strconv.ParseInt(string(v), 10, 64)
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// xmlParser reads the XML of one document, element by element.
type xmlParser struct {
	b []byte
	i int
	// empty says the last start tag read closed itself (<a/>): the
	// element is over, with no text and no children.
	empty bool
	// stack holds the names of the elements open, innermost last.
	stack [][]byte
}

var errXMLEnd = errors.New("XML syntax error: unexpected end of document")

func (p *xmlParser) errorf(format string, args ...any) error {
	return fmt.Errorf("XML syntax error at offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

// misc skips white space, comments, processing instructions and
// directives (a DOCTYPE): what may come between elements.
func (p *xmlParser) misc() error {
	for {
		for p.i < len(p.b) && isSpace(p.b[p.i]) {
			p.i++
		}
		rest := p.b[p.i:]
		var n int // bytes of markup at p.i
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			n = markupEnd(rest, "?>")
		case bytes.HasPrefix(rest, []byte("<!--")):
			n = markupEnd(rest, "-->")
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			return nil // text, not markup to pass over
		case bytes.HasPrefix(rest, []byte("<!")):
			n = directiveEnd(rest)
		default:
			return nil
		}
		if n < 0 {
			return errXMLEnd
		}
		p.i += n
	}
}

// markupEnd returns the length of the markup at the start of b that ends
// with end (after its first two bytes), or -1.
func markupEnd(b []byte, end string) int {
	j := bytes.Index(b[2:], []byte(end))
	if j < 0 {
		return -1
	}
	return 2 + j + len(end)
}

// directiveEnd returns the length of the directive at the start of b, to
// its '>', or -1: as encoding/xml reads one, nested '<' '>' and quotes
// minded from the second byte after "<!".
func directiveEnd(b []byte) int {
	depth, quote := 0, byte(0)
	for j := 3; j < len(b); j++ {
		switch c := b[j]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			if depth == 0 {
				return j + 1
			}
			depth--
		case c == '<':
			depth++
		}
	}
	return -1
}

// open reads a start tag at p.i and returns its name; p.empty says
// whether it closes itself (<a/>).
func (p *xmlParser) open() ([]byte, error) {
	name, empty, err := p.openTag()
	p.empty = empty
	if err == nil && !empty {
		p.stack = append(p.stack, name)
	}
	return name, err
}

func (p *xmlParser) openTag() (name []byte, empty bool, err error) {
	if p.i >= len(p.b) || p.b[p.i] != '<' {
		return nil, false, p.errorf("expected an element")
	}
	j := p.i + 1
	for j < len(p.b) && !isSpace(p.b[j]) && p.b[j] != '>' && p.b[j] != '/' {
		j++
	}
	name = p.b[p.i+1 : j]
	if len(name) == 0 {
		return nil, false, p.errorf("expected an element name")
	}
	// Attributes: passed over, quotes minded.
	for {
		if j >= len(p.b) {
			return nil, false, errXMLEnd
		}
		switch c := p.b[j]; c {
		case '"', '\'':
			k := bytes.IndexByte(p.b[j+1:], c)
			if k < 0 {
				return nil, false, errXMLEnd
			}
			j += k + 2
		case '>':
			p.i = j + 1
			return name, false, nil
		case '/':
			if j+1 < len(p.b) && p.b[j+1] == '>' {
				p.i = j + 2
				return name, true, nil
			}
			return nil, false, p.errorf("unexpected '/' in a start tag")
		default:
			j++
		}
	}
}

// close reads an end tag at p.i, which must close the element open
// innermost: a reply damaged on the way is an error, not a shorter
// listing.
func (p *xmlParser) close() error {
	if !bytes.HasPrefix(p.b[p.i:], []byte("</")) {
		return p.errorf("expected an end tag")
	}
	k := bytes.IndexByte(p.b[p.i:], '>')
	if k < 0 {
		return errXMLEnd
	}
	name := bytes.TrimRight(p.b[p.i+2:p.i+k], " \t\r\n")
	if len(p.stack) == 0 || !bytes.Equal(name, p.stack[len(p.stack)-1]) {
		return p.errorf("unexpected end tag </%s>", name)
	}
	p.stack = p.stack[:len(p.stack)-1]
	p.i += k + 1
	return nil
}

// child moves to the next child element of the element being read and
// reads its start tag; end says the element's end tag came instead (and
// was read). Text between children is passed over (white space, in
// these documents).
func (p *xmlParser) child() (name []byte, end bool, err error) {
	if p.empty {
		p.empty = false
		return nil, true, nil
	}
	for {
		k := bytes.IndexByte(p.b[p.i:], '<')
		if k < 0 {
			return nil, false, errXMLEnd
		}
		p.i += k
		rest := p.b[p.i:]
		switch {
		case bytes.HasPrefix(rest, []byte("</")):
			return nil, true, p.close()
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			j := bytes.Index(rest, []byte("]]>"))
			if j < 0 {
				return nil, false, errXMLEnd
			}
			p.i += j + 3
		case bytes.HasPrefix(rest, []byte("<!")), bytes.HasPrefix(rest, []byte("<?")):
			if err := p.misc(); err != nil {
				return nil, false, err
			}
		default:
			name, err = p.open()
			return name, false, err
		}
	}
}

// skip passes over the rest of an element whose start tag was read.
func (p *xmlParser) skip() error {
	for depth := 1; depth > 0; {
		_, end, err := p.child()
		switch {
		case err != nil:
			return err
		case end:
			depth--
		default:
			depth++
		}
	}
	return nil
}

// raw returns the text of an element whose start tag was read, as it is
// in the document when it holds no markup, entity or carriage return, and
// resolved otherwise; the end tag is read.
func (p *xmlParser) raw() ([]byte, error) {
	if v, ok, err := p.plain(); ok || err != nil {
		return v, err
	}
	s, err := p.textSlow()
	return []byte(s), err
}

// text is raw as a string, with one allocation.
func (p *xmlParser) text() (string, error) {
	if v, ok, err := p.plain(); ok || err != nil {
		return string(v), err
	}
	return p.textSlow()
}

// plain returns the text of the element when it is plain (see raw),
// and reads the end tag; ok is false, and nothing read, otherwise.
func (p *xmlParser) plain() (v []byte, ok bool, err error) {
	if p.empty {
		p.empty = false
		return []byte{}, true, nil
	}
	k := bytes.IndexByte(p.b[p.i:], '<')
	if k < 0 {
		return nil, false, errXMLEnd
	}
	v = p.b[p.i : p.i+k]
	if !bytes.HasPrefix(p.b[p.i+k:], []byte("</")) || bytes.IndexByte(v, '&') >= 0 || bytes.IndexByte(v, '\r') >= 0 {
		return nil, false, nil
	}
	p.i += k
	return v, true, p.close()
}

// textSlow resolves the text of an element holding entities, CDATA,
// comments or carriage returns. A child element is an error: the
// elements read as text hold none.
func (p *xmlParser) textSlow() (string, error) {
	var out strings.Builder
	for {
		k := bytes.IndexByte(p.b[p.i:], '<')
		if k < 0 {
			return "", errXMLEnd
		}
		if err := unescapeText(&out, p.b[p.i:p.i+k]); err != nil {
			return "", err
		}
		p.i += k
		rest := p.b[p.i:]
		switch {
		case bytes.HasPrefix(rest, []byte("</")):
			return out.String(), p.close()
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			j := bytes.Index(rest, []byte("]]>"))
			if j < 0 {
				return "", errXMLEnd
			}
			out.Write(crlf(rest[len("<![CDATA["):j]))
			p.i += j + 3
		case bytes.HasPrefix(rest, []byte("<!")), bytes.HasPrefix(rest, []byte("<?")):
			if err := p.misc(); err != nil {
				return "", err
			}
		default:
			return "", p.errorf("unexpected element in text")
		}
	}
}

// unescapeText writes character data to out, its entities and line ends
// resolved.
func unescapeText(out *strings.Builder, v []byte) error {
	if out.Len() == 0 {
		out.Grow(len(v))
	}
	for len(v) > 0 {
		a := bytes.IndexByte(v, '&')
		if a < 0 {
			out.Write(crlf(v))
			break
		}
		out.Write(crlf(v[:a]))
		v = v[a:]
		semi := bytes.IndexByte(v, ';')
		if semi < 0 {
			return errors.New("XML syntax error: invalid character entity (no semicolon)")
		}
		ent := v[1:semi]
		switch string(ent) {
		case "lt":
			out.WriteByte('<')
		case "gt":
			out.WriteByte('>')
		case "amp":
			out.WriteByte('&')
		case "apos":
			out.WriteByte('\'')
		case "quot":
			out.WriteByte('"')
		default:
			if len(ent) < 2 || ent[0] != '#' {
				return fmt.Errorf("XML syntax error: invalid character entity &%s;", ent)
			}
			var (
				r   uint64
				err error
			)
			if ent[1] == 'x' {
				r, err = strconv.ParseUint(string(ent[2:]), 16, 32)
			} else {
				r, err = strconv.ParseUint(string(ent[1:]), 10, 32)
			}
			if err != nil || !isXMLChar(rune(r)) {
				return fmt.Errorf("XML syntax error: invalid character entity &%s;", ent)
			}
			out.WriteRune(rune(r))
		}
		v = v[semi+1:]
	}
	return nil
}

// crlf reads "\r\n" and a lone "\r" as "\n", as XML does.
func crlf(v []byte) []byte {
	if bytes.IndexByte(v, '\r') < 0 {
		return v
	}
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\r' {
			out = append(out, '\n')
			if i+1 < len(v) && v[i+1] == '\n' {
				i++
			}
			continue
		}
		out = append(out, v[i])
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isXMLChar is encoding/xml's test of a character reference.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
