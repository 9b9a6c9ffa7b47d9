// E-mail notifications (Rust side: functions/notifications; its binary
// `notifications`, as the consumer, sends through SES v2 `SendEmail` from
// NOTIFICATIONS_FROM_ADDRESS, `notifications::ses::SesNotifier::from_env`).
//
// The sender is a CloudFormation parameter, `NotificationsFromAddress`: an
// address of an SES identity already verified in the account and region
// (this stack does not create or verify identities: that needs DNS records
// or a click in a mailbox). `-c notificationsFromAddress=...` (or
// AMAZON_LITE_NOTIFICATIONS_FROM_ADDRESS) makes it the parameter's default;
// without one, a deploy must pass `--parameters NotificationsFromAddress=...`.
//
// Every function of the notifications binary gets the variable (the binary
// builds the whole service, its notifier included, at init and refuses to
// start without it). Only the notifications consumer gets `ses:SendEmail`
// (SES v2 SendEmail is authorized as ses:SendEmail), on the identity of the
// address and on the identity of its domain (SES checks whichever identity
// is verified: the address, or its domain), and only with that address as
// the From address (`ses:FromAddress`). The `notifications-list` route
// function reads the table only.
import { Aws, CfnParameter, Fn, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { ConsumerSpec, RouteSpec } from './config';
import { type FunctionWiring, NO_WIRING, wiring } from './wiring';

export const NOTIFICATIONS_SERVICE = 'notifications';
export const NOTIFICATIONS_CONSUMER = 'notifications';
export const NOTIFICATIONS_FROM_ENV = 'NOTIFICATIONS_FROM_ADDRESS';
export const FROM_ADDRESS_PARAMETER = 'NotificationsFromAddress';
/** A plain address (no display name): what SES takes as an identity and `ses:FromAddress` compares. */
export const FROM_ADDRESS_PATTERN = '^[^@\\s<>"]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$';

export function checkFromAddress(address: string): string {
  if (!new RegExp(FROM_ADDRESS_PATTERN).test(address)) {
    throw new Error(`notificationsFromAddress ${JSON.stringify(address)} is not a plain e-mail address (e.g. no-reply@example.com)`);
  }
  return address;
}

export interface NotificationsWiringProps {
  readonly consumers: readonly ConsumerSpec[];
  /** Default of the NotificationsFromAddress parameter. Default: none (the deploy must pass it). */
  readonly fromAddress?: string;
}

export class NotificationsWiring {
  /** The sender parameter; only when consumers.json has the notifications consumer. */
  readonly fromAddress?: CfnParameter;

  constructor(scope: Stack, props: NotificationsWiringProps) {
    const defaultAddress = props.fromAddress === undefined ? undefined : checkFromAddress(props.fromAddress);
    if (!props.consumers.some((c) => c.name === NOTIFICATIONS_CONSUMER)) return;
    this.fromAddress = new CfnParameter(scope, FROM_ADDRESS_PARAMETER, {
      type: 'String',
      description:
        'Sender of the notification e-mails (NOTIFICATIONS_FROM_ADDRESS): an address whose SES identity (the address or its domain) ' +
        'is verified in this account and region',
      allowedPattern: FROM_ADDRESS_PATTERN,
      constraintDescription: 'a plain e-mail address such as no-reply@example.com',
      default: defaultAddress,
    });
  }

  /** `arn:<partition>:ses:<region>:<account>:identity/<name>`. */
  private static identityArn(name: string): string {
    return Fn.join('', ['arn:', Aws.PARTITION, ':ses:', Aws.REGION, ':', Aws.ACCOUNT_ID, ':identity/', name]);
  }

  /** The notifications route functions: the variable, no grant. */
  forRoute(route: RouteSpec): FunctionWiring {
    if (route.service !== NOTIFICATIONS_SERVICE || !this.fromAddress) return NO_WIRING;
    return wiring({ [NOTIFICATIONS_FROM_ENV]: this.fromAddress.valueAsString });
  }

  forConsumer(spec: ConsumerSpec): FunctionWiring {
    if (spec.name !== NOTIFICATIONS_CONSUMER || !this.fromAddress) return NO_WIRING;
    const address = this.fromAddress.valueAsString;
    const domain = Fn.select(1, Fn.split('@', address));
    return wiring({ [NOTIFICATIONS_FROM_ENV]: address }, [
      new iam.PolicyStatement({
        sid: 'NotificationsSendEmail',
        actions: ['ses:SendEmail'],
        resources: [NotificationsWiring.identityArn(address), NotificationsWiring.identityArn(domain)],
        conditions: { StringEquals: { 'ses:FromAddress': address } },
      }),
    ]);
  }

  /** Throws when consumers.json has a notifications consumer this wiring does not know. */
  static check(consumers: readonly ConsumerSpec[]): void {
    const unknown = consumers.filter((c) => c.service === NOTIFICATIONS_SERVICE && c.name !== NOTIFICATIONS_CONSUMER).map((c) => c.name);
    if (unknown.length > 0) {
      throw new Error(
        `consumers.json: notifications consumer ${unknown.join(', ')} has no wiring in lib/notifications.ts (only ${NOTIFICATIONS_CONSUMER}); ` +
          `the notifications binary does not start without ${NOTIFICATIONS_FROM_ENV}`,
      );
    }
  }
}
