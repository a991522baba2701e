// Package stack reads the SAM template (template.yaml) into a typed view of what the local runner needs,
// and creates its DynamoDB tables, S3 buckets and SQS queues on a local moto server, so the local stack
// is built from the same declaration as the deployed one.
//
// Parsing works on yaml.Node, so CloudFormation's short-form tags (!Ref, !Sub, !GetAtt, !If, ...) and
// long forms ({Ref: X}, {Fn::GetAtt: [X, Y]}) both parse. Values that may be intrinsics are kept as Value
// and resolved against created resources with Resources.Resolve. Fields that must be plain data for the
// runner (numbers, booleans, schedule expressions) accept a literal or a !Ref to a parameter, which Load
// replaces with the parameter's default.
//
// Only what the local stack uses is modelled: functions and their HttpApi, DynamoDB stream, SQS and
// schedule events; HTTP APIs; tables; buckets; queues; parameters; conditions. Other resources (Cognito,
// bucket policies, ...) are listed in Template.Other and otherwise ignored.
package stack
