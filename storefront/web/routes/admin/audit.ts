// The audit log (GET /admin/audit): every change, who made it through which channel, and what it was
// before and after; filtered by number, account, user, channel, action and time, newest first. A number's
// trail is /admin/audit?number=<number> (the inventory links each number to it).
import { searchAudit } from '../../../../core/audit/audit-log.ts';
import { CHANNELS } from '../../../../core/db/schema.ts';
import { formPage, setFormData } from '../../errors.ts';
import { queryField } from '../../form.ts';
import { adminPage, formFlags, staffCtx, type AdminDeps, type AdminRoute } from './admin-web.ts';

const PARAMS = ['number', 'account', 'user', 'channel', 'action', 'from', 'to'] as const;

export function auditRoutes({ web }: AdminDeps): AdminRoute[] {
  return [
    {
      method: 'get',
      path: '/audit',
      role: 'viewer',
      handlers: [
        formPage('admin/audit', 'Audit log', [...PARAMS]),
        async (req, res) => {
          const values = Object.fromEntries(PARAMS.map((p) => [p, queryField(req, p).trim()]));
          const channels = CHANNELS.map((c) => ({ value: c, selected: c === values.channel }));
          setFormData(res, { ...formFlags(res, 'audit'), section: 'audit', channels, events: [] });
          const beforeText = queryField(req, 'before');
          const before = /^\d{1,15}$/.test(beforeText) ? Number(beforeText) : undefined;
          const page = await searchAudit(staffCtx(web, res), values, { before });
          const query = (extra: Record<string, string>) => {
            const q = new URLSearchParams();
            for (const p of PARAMS) if (values[p]) q.set(p, values[p]);
            for (const [k, v] of Object.entries(extra)) q.set(k, v);
            const text = q.toString();
            return text ? `/admin/audit?${text}` : '/admin/audit';
          };
          adminPage(web, req, res, 'audit', {
            title: values.number ? `Audit trail of ${values.number}` : 'Audit log',
            section: 'audit',
            values,
            channels,
            events: page.events,
            empty: page.events.length === 0,
            nextUrl: page.nextBefore === null ? null : query({ before: String(page.nextBefore) }),
            firstUrl: before === undefined ? null : query({}),
          });
        },
      ],
    },
  ];
}
