/**
 * The benchmark's workflow templates: four domains, three five-step templates
 * each. A step names its tool, whether the tool has a side effect, where each
 * input field comes from (`doc`: a `Label: value` line of the input document;
 * a step number: that step's output key of the same name; `free`: text the
 * model writes), the key outputs it returns, and the fixed size of its result.
 */

/** A field of the input document: `id:C` (an id with prefix C), `enum:a|b`, `int:100-900`. */
export type FieldType = string;

export interface StepTemplate {
  readonly tool: string;
  readonly does: string;
  readonly effect: 'read' | 'write';
  /** `name<doc`, `name<2` (output of step 2, 1-based), `name<free`. */
  readonly inputs: readonly string[];
  /** `name:type`, as for document fields. */
  readonly outputs: readonly string[];
  /** Tokens of the tool result (fixed per tool). */
  readonly payload: number;
}

export interface Template {
  readonly domain: Domain;
  readonly id: string;
  readonly subject: string;
  readonly docFields: Readonly<Record<string, FieldType>>;
  /** Tokens of the document's prose (fixed per template). */
  readonly docTokens: number;
  readonly steps: readonly StepTemplate[];
}

export type Domain = 'approval' | 'enrichment' | 'triage' | 'reporting';

const s = (tool: string, effect: 'read' | 'write', does: string, inputs: string[], outputs: string[], payload: number): StepTemplate => ({
  tool, effect, does, inputs, outputs, payload,
});

export const templates: readonly Template[] = [
  // ── document approval routing ──────────────────────────────────────────
  {
    domain: 'approval', id: 'invoice', subject: 'supplier invoice', docTokens: 700,
    docFields: { invoiceNumber: 'id:INV', vendorCode: 'id:V', amountDue: 'int:200-90000', costCenter: 'enum:ops|sales|rnd|finance' },
    steps: [
      s('extract_invoice', 'read', 'record the invoice fields found in the document', ['invoiceNumber<doc', 'vendorCode<doc', 'amountDue<doc', 'costCenter<doc'], ['ledgerRef:id:LR'], 500),
      s('check_vendor', 'read', 'check the vendor in the ERP', ['vendorCode<doc', 'ledgerRef<1'], ['vendorStatus:enum:active|watchlist|new', 'paymentTerms:enum:net15|net30|net60'], 750),
      s('match_purchase_order', 'read', 'match the invoice to its purchase order', ['ledgerRef<1', 'vendorStatus<2'], ['poNumber:id:PO', 'matchScore:int:60-100'], 600),
      s('route_for_approval', 'write', 'route the invoice to the right approver', ['poNumber<3', 'costCenter<doc', 'amountDue<doc'], ['approverRole:enum:manager|director|cfo', 'routingId:id:RT'], 300),
      s('notify_approver', 'write', 'notify the approver with a short note', ['routingId<4', 'approverRole<4', 'note<free'], ['notificationId:id:NT'], 200),
    ],
  },
  {
    domain: 'approval', id: 'contract', subject: 'vendor contract', docTokens: 1000,
    docFields: { contractCode: 'id:CT', counterparty: 'id:CP', termMonths: 'int:6-60', riskClass: 'enum:low|medium|high' },
    steps: [
      s('parse_contract', 'read', 'record the contract terms found in the document', ['contractCode<doc', 'counterparty<doc', 'termMonths<doc', 'riskClass<doc'], ['clauseSetId:id:CS'], 900),
      s('screen_counterparty', 'read', 'screen the counterparty against sanctions lists', ['counterparty<doc', 'clauseSetId<1'], ['screeningResult:enum:clear|review|blocked'], 450),
      s('score_legal_risk', 'read', 'score the legal risk of the clauses', ['clauseSetId<1', 'riskClass<doc'], ['legalScore:int:1-100', 'reviewTrack:enum:standard|expedited|senior'], 650),
      s('assign_legal_reviewer', 'write', 'assign the contract to a legal reviewer', ['reviewTrack<3', 'screeningResult<2'], ['reviewerId:id:LR', 'reviewQueue:enum:emea|amer|apac'], 200),
      s('record_decision_memo', 'write', 'file a decision memo for the reviewer', ['reviewerId<4', 'legalScore<3', 'memoText<free'], ['memoId:id:MM'], 200),
    ],
  },
  {
    domain: 'approval', id: 'expense', subject: 'expense claim', docTokens: 500,
    docFields: { claimNumber: 'id:EX', employeeCode: 'id:E', claimTotal: 'int:20-8000', expenseType: 'enum:travel|meals|equipment|training' },
    steps: [
      s('read_expense_claim', 'read', 'record the claim fields found in the document', ['claimNumber<doc', 'employeeCode<doc', 'claimTotal<doc', 'expenseType<doc'], ['claimRef:id:CR'], 400),
      s('check_policy_limits', 'read', 'check the claim against the expense policy', ['claimRef<1', 'expenseType<doc'], ['policyVerdict:enum:within|over|exception', 'limitAmount:int:100-10000'], 700),
      s('fetch_manager', 'read', "look up the employee's manager", ['employeeCode<doc'], ['managerCode:id:M', 'department:enum:ops|sales|rnd|finance|hr'], 350),
      s('submit_for_signoff', 'write', 'submit the claim for sign-off', ['claimRef<1', 'managerCode<3', 'policyVerdict<2'], ['signoffId:id:SO'], 250),
      s('post_reimbursement', 'write', 'schedule the reimbursement', ['signoffId<4', 'claimTotal<doc', 'remittanceNote<free'], ['paymentBatch:id:PB', 'payDate:enum:monday|wednesday|friday'], 300),
    ],
  },
  // ── data enrichment ───────────────────────────────────────────────────
  {
    domain: 'enrichment', id: 'lead', subject: 'inbound sales lead', docTokens: 600,
    docFields: { leadEmailDomain: 'enum:acme.io|globex.com|initech.net|umbrella.org|hooli.xyz', leadCountry: 'enum:DE|FR|US|JP|BR', leadSource: 'enum:webinar|ads|referral|event' },
    steps: [
      s('normalize_lead', 'read', 'record the lead fields found in the message', ['leadEmailDomain<doc', 'leadCountry<doc', 'leadSource<doc'], ['leadKey:id:LD'], 300),
      s('lookup_company', 'read', 'look the company up by its domain', ['leadEmailDomain<doc', 'leadKey<1'], ['companyId:id:CO', 'employeeBand:enum:1-50|51-500|501-5000|5000+'], 1200),
      s('fetch_firmographics', 'read', 'fetch firmographics for the company', ['companyId<2'], ['industryCode:id:IND', 'annualRevenueBand:enum:small|mid|large|enterprise'], 1000),
      s('score_lead', 'read', 'score the lead', ['leadKey<1', 'employeeBand<2', 'annualRevenueBand<3'], ['leadScore:int:1-100', 'segment:enum:smb|midmarket|enterprise'], 200),
      s('update_crm_record', 'write', 'write the enriched lead to the CRM with a one-line summary', ['leadKey<1', 'companyId<2', 'leadScore<4', 'segment<4', 'summaryLine<free'], ['crmRecordId:id:CRM'], 200),
    ],
  },
  {
    domain: 'enrichment', id: 'supplier', subject: 'new supplier registration', docTokens: 900,
    docFields: { supplierTaxId: 'id:TX', supplierRegion: 'enum:emea|amer|apac', categoryCode: 'id:CAT' },
    steps: [
      s('register_supplier_draft', 'read', 'record the supplier fields found in the form', ['supplierTaxId<doc', 'supplierRegion<doc', 'categoryCode<doc'], ['draftId:id:DR'], 350),
      s('verify_tax_registration', 'read', 'verify the tax registration', ['supplierTaxId<doc', 'draftId<1'], ['taxStatus:enum:valid|pending|invalid', 'registryRef:id:REG'], 850),
      s('fetch_credit_report', 'read', 'fetch a credit report for the supplier', ['registryRef<2'], ['creditRating:enum:A|B|C|D', 'creditLimit:int:1000-500000'], 1300),
      s('classify_spend_category', 'read', 'classify the spend category', ['categoryCode<doc', 'creditRating<3'], ['spendClass:enum:direct|indirect|capex', 'buyerGroup:id:BG'], 400),
      s('activate_supplier', 'write', 'activate the supplier in the ERP', ['draftId<1', 'taxStatus<2', 'spendClass<4', 'buyerGroup<4', 'welcomeNote<free'], ['supplierNumber:id:SUP'], 200),
    ],
  },
  {
    domain: 'enrichment', id: 'address', subject: 'customer address change', docTokens: 500,
    docFields: { customerNumber: 'id:CU', postalCode: 'id:PC', countryIso: 'enum:DE|FR|US|JP|BR|IN' },
    steps: [
      s('parse_address_request', 'read', 'record the address fields found in the request', ['customerNumber<doc', 'postalCode<doc', 'countryIso<doc'], ['requestKey:id:AR'], 200),
      s('geocode_address', 'read', 'geocode the new address', ['postalCode<doc', 'countryIso<doc'], ['geoCell:id:GC', 'deliveryZone:enum:z1|z2|z3|z4'], 550),
      s('lookup_tax_jurisdiction', 'read', 'look up the tax jurisdiction', ['geoCell<2'], ['jurisdictionCode:id:JUR', 'taxRatePermille:int:0-250'], 500),
      s('update_customer_master', 'write', 'update the customer master record', ['customerNumber<doc', 'requestKey<1', 'jurisdictionCode<3', 'deliveryZone<2'], ['masterRevision:id:MR'], 300),
      s('confirm_to_customer', 'write', 'send the customer a confirmation', ['masterRevision<4', 'customerNumber<doc', 'confirmationText<free'], ['messageId:id:MSG'], 200),
    ],
  },
  // ── support-ticket triage ─────────────────────────────────────────────
  {
    domain: 'triage', id: 'outage', subject: 'support ticket about an outage', docTokens: 800,
    docFields: { ticketNumber: 'id:TK', accountCode: 'id:AC', productArea: 'enum:billing|api|dashboard|mobile', severityHint: 'enum:low|medium|high|critical' },
    steps: [
      s('classify_ticket', 'read', 'record the ticket fields found in the message', ['ticketNumber<doc', 'accountCode<doc', 'productArea<doc', 'severityHint<doc'], ['triageKey:id:TR'], 200),
      s('lookup_account', 'read', 'look up the customer account', ['accountCode<doc'], ['accountTier:enum:free|pro|business|enterprise', 'csmOwner:id:CSM'], 700),
      s('search_known_incidents', 'read', 'search known incidents for this product area', ['productArea<doc', 'triageKey<1'], ['incidentId:id:INC', 'incidentState:enum:investigating|identified|monitoring|resolved'], 1100),
      s('assign_ticket', 'write', 'assign the ticket to a queue', ['triageKey<1', 'accountTier<2', 'incidentId<3'], ['queueName:enum:tier1|tier2|sre|billing', 'assignmentId:id:AS'], 250),
      s('reply_to_customer', 'write', 'reply to the customer with a status update', ['assignmentId<4', 'incidentState<3', 'replyText<free'], ['replyId:id:RP'], 200),
    ],
  },
  {
    domain: 'triage', id: 'refund', subject: 'refund request ticket', docTokens: 600,
    docFields: { requestNumber: 'id:RQ', orderNumber: 'id:ORD', refundAmount: 'int:5-2500', refundReason: 'enum:damaged|late|wrong_item|not_received' },
    steps: [
      s('read_refund_request', 'read', 'record the refund fields found in the message', ['requestNumber<doc', 'orderNumber<doc', 'refundAmount<doc', 'refundReason<doc'], ['caseKey:id:CK'], 300),
      s('fetch_order_history', 'read', 'fetch the order and its shipments', ['orderNumber<doc'], ['shipmentState:enum:delivered|in_transit|lost|returned', 'carrierCode:id:CR'], 1050),
      s('check_fraud_signals', 'read', 'check the fraud signals of the case', ['caseKey<1', 'shipmentState<2'], ['fraudScore:int:0-100', 'fraudBand:enum:low|elevated|high'], 600),
      s('decide_refund', 'write', 'record the refund decision', ['caseKey<1', 'fraudBand<3', 'refundAmount<doc'], ['decisionCode:enum:approve|partial|deny|escalate', 'decisionId:id:DC'], 200),
      s('send_refund_notice', 'write', 'tell the customer the decision', ['decisionId<4', 'decisionCode<4', 'noticeText<free'], ['noticeId:id:NO'], 200),
    ],
  },
  {
    domain: 'triage', id: 'access', subject: 'access request ticket', docTokens: 500,
    docFields: { accessTicket: 'id:AT', employeeNumber: 'id:EMP', systemName: 'enum:github|salesforce|snowflake|jira|okta', accessLevel: 'enum:read|write|admin' },
    steps: [
      s('parse_access_request', 'read', 'record the request fields found in the message', ['accessTicket<doc', 'employeeNumber<doc', 'systemName<doc', 'accessLevel<doc'], ['accessKey:id:AK'], 200),
      s('lookup_employee', 'read', 'look up the employee in the directory', ['employeeNumber<doc'], ['orgUnit:id:OU', 'employmentType:enum:employee|contractor|intern'], 650),
      s('check_access_policy', 'read', 'check the access policy for the system', ['accessKey<1', 'employmentType<2'], ['policyOutcome:enum:auto|approval|deny', 'policyRef:id:POL'], 900),
      s('grant_access', 'write', 'grant the access in the identity provider', ['accessKey<1', 'policyOutcome<3', 'orgUnit<2'], ['grantId:id:GR'], 200),
      s('close_access_ticket', 'write', 'close the ticket with a note', ['grantId<4', 'policyRef<3', 'closingNote<free'], ['closureId:id:CL'], 200),
    ],
  },
  // ── report generation ─────────────────────────────────────────────────
  {
    domain: 'reporting', id: 'sales', subject: 'weekly sales report request', docTokens: 500,
    docFields: { reportPeriod: 'enum:2026-W01|2026-W02|2026-W03|2026-W04', salesRegion: 'enum:emea|amer|apac|latam', currencyCode: 'enum:EUR|USD|JPY|BRL' },
    steps: [
      s('plan_sales_report', 'read', 'record the report parameters found in the request', ['reportPeriod<doc', 'salesRegion<doc', 'currencyCode<doc'], ['reportJob:id:RJ'], 200),
      s('query_bookings', 'read', 'query the bookings of the period', ['reportJob<1', 'salesRegion<doc'], ['bookingsTotal:int:10000-900000', 'dealCount:int:5-400'], 1400),
      s('query_pipeline', 'read', 'query the open pipeline', ['reportJob<1'], ['pipelineTotal:int:50000-5000000', 'stageMix:enum:early|balanced|late'], 1100),
      s('render_sales_charts', 'write', 'render the charts of the report', ['bookingsTotal<2', 'pipelineTotal<3', 'stageMix<3'], ['chartBundle:id:CB'], 350),
      s('publish_sales_report', 'write', 'publish the report with an executive summary', ['reportJob<1', 'chartBundle<4', 'executiveSummary<free'], ['reportUrlKey:id:URL'], 200),
    ],
  },
  {
    domain: 'reporting', id: 'incident', subject: 'incident postmortem request', docTokens: 1000,
    docFields: { incidentRef: 'id:IR', serviceName: 'enum:checkout|search|auth|payments', impactMinutes: 'int:5-600' },
    steps: [
      s('open_postmortem', 'read', 'record the incident fields found in the request', ['incidentRef<doc', 'serviceName<doc', 'impactMinutes<doc'], ['postmortemId:id:PM'], 200),
      s('collect_timeline', 'read', 'collect the incident timeline from the logs', ['incidentRef<doc', 'postmortemId<1'], ['timelineRef:id:TL', 'eventCount:int:10-400'], 1300),
      s('collect_metrics', 'read', 'collect the service metrics around the incident', ['serviceName<doc', 'timelineRef<2'], ['errorBudgetBurn:int:1-100', 'sloState:enum:met|at_risk|breached'], 950),
      s('draft_postmortem', 'write', 'draft the postmortem document', ['postmortemId<1', 'sloState<3', 'eventCount<2', 'rootCauseSummary<free'], ['draftDocId:id:DOC'], 450),
      s('schedule_review', 'write', 'schedule the postmortem review', ['draftDocId<4', 'errorBudgetBurn<3'], ['meetingId:id:MTG'], 200),
    ],
  },
  {
    domain: 'reporting', id: 'finance', subject: 'month-end finance pack request', docTokens: 700,
    docFields: { fiscalMonth: 'enum:2026-01|2026-02|2026-03|2026-04', entityCode: 'id:ENT', reportingLedger: 'enum:primary|statutory|management' },
    steps: [
      s('start_close_pack', 'read', 'record the pack parameters found in the request', ['fiscalMonth<doc', 'entityCode<doc', 'reportingLedger<doc'], ['packId:id:PK'], 200),
      s('pull_trial_balance', 'read', 'pull the trial balance', ['packId<1', 'entityCode<doc'], ['balanceCheck:enum:balanced|off_by_rounding|unbalanced', 'accountCount:int:50-900'], 1250),
      s('pull_variances', 'read', 'pull the budget variances', ['packId<1', 'balanceCheck<2'], ['varianceFlag:enum:none|minor|material', 'topVarianceAccount:id:GL'], 850),
      s('build_finance_pack', 'write', 'build the finance pack', ['packId<1', 'varianceFlag<3', 'accountCount<2'], ['packFileId:id:PF'], 400),
      s('send_to_controller', 'write', 'send the pack to the controller with a cover note', ['packFileId<4', 'topVarianceAccount<3', 'coverNote<free'], ['deliveryId:id:DLV'], 200),
    ],
  },
];
