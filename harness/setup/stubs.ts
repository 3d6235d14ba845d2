import { failure } from '../errors.js';

/**
 * Go modules that stand in for dependencies the Go module proxy here does not serve.
 * Each stub exposes exactly the API its one user needs and fails every call, so the
 * feature that needs it reports itself unavailable while the rest of the program is
 * the real upstream code.
 */
const stubs: Record<string, Record<string, string>> = {
  // flannel's tencent-vpc backend (pkg/backend/tencentvpc) is the only user; firedrill runs vxlan.
  'tencentcloud-vpc': {
    'go.mod': 'module github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc\n\ngo 1.21\n',
    'v20170312/stub.go': `// Package v20170312 stands in for the Tencent Cloud VPC SDK in a firedrill build of flanneld.
package v20170312

import "errors"

var errUnavailable = errors.New("the tencent-vpc backend is not available in this flanneld: it was built by firedrill setup without the Tencent Cloud VPC SDK")

type Filter struct {
	Name   *string
	Values []*string
}

type Route struct {
	DestinationCidrBlock *string
	GatewayType          *string
	GatewayId            *string
	RouteType            *string
	Enabled              *bool
	RouteId              *uint64
}

type RouteTable struct {
	RouteTableId *string
	RouteSet     []*Route
}

type DescribeRouteTablesRequest struct{ Filters []*Filter }

type DescribeRouteTablesResponse struct {
	Response *struct{ RouteTableSet []*RouteTable }
}

type DeleteRoutesRequest struct {
	RouteTableId *string
	Routes       []*Route
}

type DeleteRoutesResponse struct{}

type CreateRoutesRequest struct {
	RouteTableId *string
	Routes       []*Route
}

type CreateRoutesResponse struct{}

type Client struct{}

func NewClientWithSecretId(secretId, secretKey, region string) (*Client, error) { return nil, errUnavailable }

func NewDescribeRouteTablesRequest() *DescribeRouteTablesRequest { return &DescribeRouteTablesRequest{} }
func NewDeleteRoutesRequest() *DeleteRoutesRequest               { return &DeleteRoutesRequest{} }
func NewCreateRoutesRequest() *CreateRoutesRequest               { return &CreateRoutesRequest{} }

func (c *Client) DescribeRouteTables(*DescribeRouteTablesRequest) (*DescribeRouteTablesResponse, error) {
	return nil, errUnavailable
}
func (c *Client) DeleteRoutes(*DeleteRoutesRequest) (*DeleteRoutesResponse, error) { return nil, errUnavailable }
func (c *Client) CreateRoutes(*CreateRoutesRequest) (*CreateRoutesResponse, error) { return nil, errUnavailable }
`,
  },
};

export function goStubs(name: string): Record<string, string> {
  const files = stubs[name];
  if (!files) throw failure(`components.json names an unknown Go stub "${name}" (known: ${Object.keys(stubs).join(', ')})`);
  return files;
}
