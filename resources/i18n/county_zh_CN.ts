<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ApprovalBadge</name>
    <message>
        <source>%1 — %2 case(s) with a request awaiting approval (queue 待审批)</source>
        <extracomment>Roles that approve or deny 延期 and 挂账 requests (the workflow&apos;s ROLES).</extracomment>
        <translation>%1 — %2 件事件有待审批的申请（队列：待审批）</translation>
    </message>
</context>
<context>
    <name>CountyBoard</name>
    <message>
        <source>Township</source>
        <extracomment>A township&apos;s row is marked when this many cases wait for the county or are overdue. Rows shown without scrolling (the busiest townships come first).</extracomment>
        <translation>乡镇（街道）</translation>
    </message>
    <message>
        <source>Escalated, awaiting acceptance</source>
        <translation>上报待受理</translation>
    </message>
    <message>
        <source>Held by the county</source>
        <translation>县级办理中</translation>
    </message>
    <message>
        <source>Handed down, not closed</source>
        <translation>已交办未办结</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>超期</translation>
    </message>
    <message>
        <source>Urged</source>
        <translation>督办</translation>
    </message>
    <message>
        <source>County total</source>
        <translation>全县合计</translation>
    </message>
    <message>
        <source>Show these cases</source>
        <translation>查看这些事件</translation>
    </message>
</context>
<context>
    <name>CountyNotes</name>
    <message>
        <source>Escalated to the county on %1: waiting for the county command centre to take it in.</source>
        <translation>%1 已上报县级，等待县综合指挥中心受理。</translation>
    </message>
    <message>
        <source>Escalated to the county on %1; the county command centre took it in on %2.</source>
        <translation>%1 已上报县级，县综合指挥中心已于 %2 受理。</translation>
    </message>
    <message>
        <source>Handed down by the county on %1%2: %3</source>
        <translation>县级于 %1 交办%2：%3</translation>
    </message>
    <message>
        <source>This case was escalated to the county: the county command centre accepts, dispatches, verifies and decides on it. You can follow its progress here and add comments; your units report on what the county hands to them.</source>
        <translation>本事件已上报县级：由县综合指挥中心受理、派遣、核查和审批。您可以在此查看办理进度并添加备注；本级单位对县级派给自己的任务进行反馈。</translation>
    </message>
</context>
<context>
    <name>CountyPanel</name>
    <message>
        <source>Awaiting approval</source>
        <translation>待审批</translation>
    </message>
    <message>
        <source>Requests to extend a deadline or to park a case, waiting for the supervisor</source>
        <translation>等待分管领导审批的延期和挂账申请</translation>
    </message>
    <message>
        <source>Townships: escalated, overdue and urged cases</source>
        <translation>各乡镇（街道）上报、超期、督办情况</translation>
    </message>
    <message>
        <source>Reading the county figures</source>
        <translation>读取全县数据</translation>
    </message>
    <message>
        <source>Extension %1 · Parking %2</source>
        <translation>延期 %1 · 挂账 %2</translation>
    </message>
</context>
<context>
    <name>HandDownForm</name>
    <message>
        <source>the township</source>
        <translation>乡镇</translation>
    </message>
    <message>
        <source>The case goes back to %1 as its own case: the township dispatches it to its units and reports back. Units the county dispatched are taken off the case.</source>
        <translation>事件交回%1作为本级事件办理：由乡镇派遣本级单位处置并反馈。县级已派遣的单位将被收回。</translation>
    </message>
    <message>
        <source>What the township is to do, and by when</source>
        <translation>乡镇需做什么、何时办结</translation>
    </message>
    <message>
        <source>Instructions</source>
        <translation>交办要求</translation>
    </message>
    <message>
        <source>Write the instructions for the township.</source>
        <translation>请填写给乡镇的交办要求。</translation>
    </message>
</context>
<context>
    <name>QueueCombo</name>
    <message>
        <source>Work queue</source>
        <extracomment>The CaseQuery fields the picker owns.</extracomment>
        <translation>工作队列</translation>
    </message>
    <message>
        <source>All work queues</source>
        <translation>全部队列</translation>
    </message>
    <message>
        <source>Awaiting approval (extension, parking)</source>
        <translation>待审批（延期、挂账）</translation>
    </message>
    <message>
        <source>Escalated, awaiting acceptance</source>
        <translation>上报待受理</translation>
    </message>
    <message>
        <source>Escalated, awaiting the county</source>
        <translation>已上报，待县级受理</translation>
    </message>
    <message>
        <source>Held by the county</source>
        <translation>县级办理中</translation>
    </message>
    <message>
        <source>Handed down by the county</source>
        <translation>上级交办</translation>
    </message>
</context>
<context>
    <name>Queues</name>
    <message>
        <source>an extension request waits for approval</source>
        <translation>延期申请待审批</translation>
    </message>
    <message>
        <source>a parking request waits for approval</source>
        <translation>挂账申请待审批</translation>
    </message>
    <message>
        <source>a request waits for approval</source>
        <translation>有申请待审批</translation>
    </message>
    <message>
        <source>escalated, awaiting the county</source>
        <translation>已上报，待县级受理</translation>
    </message>
    <message>
        <source>held by the county</source>
        <translation>县级办理中</translation>
    </message>
    <message>
        <source>handed down by the county</source>
        <translation>上级交办</translation>
    </message>
    <message>
        <source>escalated to the county</source>
        <translation>已上报县级</translation>
    </message>
    <message>
        <source>urged</source>
        <translation>已督办</translation>
    </message>
    <message>
        <source>escalated, awaiting acceptance</source>
        <translation>上报待受理</translation>
    </message>
    <message>
        <source>awaiting approval</source>
        <translation>待审批</translation>
    </message>
</context>
</TS>
