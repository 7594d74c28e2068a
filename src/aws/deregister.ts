// `keyprov aws deregister --board ID`: undo `register` in the only order AWS accepts:
// detach (thing, policies), deactivate, delete the certificate, delete the thing.
// The shared policy stays (other boards use it).
import type { IoTClient } from '@aws-sdk/client-iot';
import type { Logger } from '../log.js';
import { KeyprovError, ToolError, UsageError } from '../errors.js';
import { IotSession, paginate } from './session.js';
import type { AwsRecords } from './records.js';
import type { PlannedCall } from './dry-run.js';

export interface DeregisterOptions {
  client: IoTClient;
  boardId: string;
  /** Default: from the records. */
  thingName?: string;
  /** Default: from the records (or the board's certificate). */
  certificateId?: string;
  records?: AwsRecords;
  log?: Logger;
  /** Detaching is eventually consistent: a delete right after may conflict; retried this often. */
  conflictRetries?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface DeregisterResult {
  boardId: string;
  thingName: string;
  certificateId: string;
  changes: string[];
}

export async function deregisterDevice(o: DeregisterOptions): Promise<DeregisterResult> {
  const rec = await o.records?.getBoard(o.boardId);
  const thingName = o.thingName ?? rec?.thingName;
  const certificateId = o.certificateId ?? rec?.certificateId;
  if (!thingName || !certificateId) {
    throw new UsageError('AWS_NOT_REGISTERED', `nothing is recorded for board ${o.boardId}, and no ${!thingName ? 'thing name' : 'certificate'} was given`, {
      hint: 'pass --thing-name and --cert (the device certificate), or run `keyprov aws register` first',
    });
  }
  const s = await IotSession.open(o.client, o.log);
  const { sdk } = s;
  const changes: string[] = [];
  const change = (what: string) => {
    changes.push(what);
    o.log?.info(`  ${what}`);
  };
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const retryOnConflict = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const conflict = e instanceof KeyprovError && e.code === 'AWS_CONFLICT';
        if (!conflict || attempt >= (o.conflictRetries ?? 5)) throw e;
        o.log?.debug(`detach not yet visible; retrying in ${2 ** attempt}s`);
        await sleep(1000 * 2 ** attempt);
      }
    }
  };

  const described = await s.find(() => s.send(new sdk.DescribeCertificateCommand({ certificateId })));
  if (described?.certificateDescription) {
    const certificateArn = described.certificateDescription.certificateArn!;
    const things = await paginate(async (nextToken) => {
      const r = await s.send(new sdk.ListPrincipalThingsCommand({ principal: certificateArn, nextToken }));
      return { items: r.things, next: r.nextToken };
    });
    const others = things.filter((t) => t !== thingName);
    if (others.length) {
      throw new ToolError('AWS_CERT_ATTACHED_ELSEWHERE', `certificate ${certificateId} is also attached to ${others.join(', ')}; keyprov deletes only a certificate that belongs to ${thingName} alone`, {
        hint: `detach it from the other thing(s) first (aws iot detach-thing-principal --thing-name ${others[0]} --principal ${certificateArn})`,
      });
    }
    if (things.includes(thingName)) {
      await s.send(new sdk.DetachThingPrincipalCommand({ thingName, principal: certificateArn }));
      change(`detached certificate from thing ${thingName}`);
    }
    const policies = await paginate(async (marker) => {
      const r = await s.send(new sdk.ListAttachedPoliciesCommand({ target: certificateArn, marker }));
      return { items: r.policies, next: r.nextMarker };
    });
    for (const p of policies) {
      await s.send(new sdk.DetachPolicyCommand({ policyName: p.policyName!, target: certificateArn }));
      change(`detached policy ${p.policyName}`);
    }
    if (described.certificateDescription.status !== 'INACTIVE') {
      await s.send(new sdk.UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
      change('set certificate INACTIVE');
    }
    await retryOnConflict(() => s.send(new sdk.DeleteCertificateCommand({ certificateId })));
    change(`deleted certificate ${certificateId}`);
  } else {
    o.log?.info(`certificate ${certificateId} is not registered (already deleted)`);
  }

  const thing = await s.find(() => s.send(new sdk.DescribeThingCommand({ thingName })));
  if (thing) {
    await retryOnConflict(() => s.send(new sdk.DeleteThingCommand({ thingName })));
    change(`deleted thing ${thingName}`);
  } else {
    o.log?.info(`thing ${thingName} does not exist (already deleted)`);
  }
  await o.records?.deleteBoard(o.boardId);
  o.log?.ok(changes.length ? `${thingName}: deregistered from AWS IoT` : `${thingName}: nothing registered; nothing changed`);
  return { boardId: o.boardId, thingName, certificateId, changes };
}

/** The commands deregistration runs, for --dry-run. */
export function planDeregister(o: { thingName: string; certificateId: string; policyNames?: string[] }): PlannedCall[] {
  return [
    { name: 'DescribeCertificate', input: { certificateId: o.certificateId }, capture: { variable: 'CERT_ARN', query: 'certificateDescription.certificateArn' } },
    { name: 'DetachThingPrincipal', input: { thingName: o.thingName, principal: '$CERT_ARN' } },
    ...(o.policyNames?.length ? o.policyNames : ['$POLICY_NAME']).map((policyName) => ({
      name: 'DetachPolicy',
      input: { policyName, target: '$CERT_ARN' },
      note: policyName === '$POLICY_NAME' ? 'for each policy listed by: aws iot list-attached-policies --target "$CERT_ARN"' : undefined,
    })),
    { name: 'UpdateCertificate', input: { certificateId: o.certificateId, newStatus: 'INACTIVE' } },
    { name: 'DeleteCertificate', input: { certificateId: o.certificateId } },
    { name: 'DeleteThing', input: { thingName: o.thingName } },
  ];
}
