<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ActionForm</name>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>Actions</name>
    <message>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
</context>
<context>
    <name>CaseDetail</name>
    <message>
        <source>Print dispatch orders…</source>
        <translation>打印交办单…</translation>
    </message>
    <message>
        <source>One dispatch order (交办单) per unit handling the case, for it to sign</source>
        <translation>为每个承办单位各打印一份交办单，供签收</translation>
    </message>
    <message>
        <source>Print dispatch orders</source>
        <translation>打印交办单</translation>
    </message>
    <message>
        <source>Print…</source>
        <translation>打印…</translation>
    </message>
    <message>
        <source>Print the case sheet, or save it as PDF</source>
        <translation>打印事件处置单，或另存为 PDF</translation>
    </message>
    <message>
        <source>Print the case sheet</source>
        <translation>打印事件处置单</translation>
    </message>
    <message>
        <source>%n hour(s) overdue</source>
        <translation>已超期 %n 小时</translation>
    </message>
    <message>
        <source>%n day(s) overdue</source>
        <translation>已超期 %n 天</translation>
    </message>
    <message>
        <source>%n minute(s) left</source>
        <translation>剩余 %n 分钟</translation>
    </message>
    <message>
        <source>%n hour(s) left</source>
        <translation>剩余 %n 小时</translation>
    </message>
    <message>
        <source>%n working day(s) left</source>
        <translation>剩余 %n 个工作日</translation>
    </message>
    <message>
        <source>Choose a case to see its details.</source>
        <translation>请在左侧选择一个事件查看详情。</translation>
    </message>
    <message>
        <source>Actions</source>
        <translation>可办理操作</translation>
    </message>
    <message>
        <source>Your account has no step to take on this case now.</source>
        <translation>当前账号对此事件暂无可办理的操作。</translation>
    </message>
    <message>
        <source>Case</source>
        <translation>事件信息</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>事件分类</translation>
    </message>
    <message>
        <source>Village / grid</source>
        <translation>村（社区）/ 网格</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Urgency</source>
        <translation>紧急程度</translation>
    </message>
    <message>
        <source>Reported</source>
        <translation>上报</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>事件描述</translation>
    </message>
    <message>
        <source>Reporter</source>
        <translation>反映人</translation>
    </message>
    <message>
        <source>Dispatch</source>
        <translation>派遣与处置</translation>
    </message>
    <message>
        <source>Unit</source>
        <translation>单位</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Feedback / reason</source>
        <translation>反馈 / 说明</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Conflicts to settle</source>
        <translation>待裁定的冲突</translation>
    </message>
    <message>
        <source>Photos</source>
        <translation>照片</translation>
    </message>
    <message>
        <source>Add photos…</source>
        <translation>添加照片…</translation>
    </message>
    <message>
        <source>History</source>
        <translation>流转记录</translation>
    </message>
    <message>
        <source>This case is not on this computer (yet).</source>
        <translation>本机（尚）无此事件。</translation>
    </message>
    <message>
        <source>(no title)</source>
        <translation>（无标题）</translation>
    </message>
    <message>
        <source>No. %1</source>
        <translation>编号 %1</translation>
    </message>
    <message>
        <source>Level: %1</source>
        <translation>层级：%1</translation>
    </message>
    <message>
        <source>Acceptance due %1</source>
        <translation>受理时限 %1</translation>
    </message>
    <message>
        <source>Handling due %1</source>
        <translation>办理时限 %1</translation>
    </message>
    <message>
        <source>Handled on the spot by the grid worker.</source>
        <translation>网格员已自行处置。</translation>
    </message>
    <message>
        <source>Rejected: %1</source>
        <translation>不予受理：%1</translation>
    </message>
    <message>
        <source>Merged as a duplicate of %1</source>
        <translation>已作为重复事件合并至 %1</translation>
    </message>
    <message>
        <source>Extension requested to %1, waiting for approval: %2</source>
        <translation>已申请延期至 %1，待审批：%2</translation>
    </message>
    <message>
        <source>Parking requested (review on %1), waiting for approval: %2</source>
        <translation>已申请挂账（复查日期 %1），待审批：%2</translation>
    </message>
    <message>
        <source>Parked; review on %1</source>
        <translation>挂账中，复查日期 %1</translation>
    </message>
    <message>
        <source>Extended %n time(s)</source>
        <translation>已延期 %n 次</translation>
    </message>
    <message>
        <source>Urged %n time(s)</source>
        <translation>已督办 %n 次</translation>
    </message>
    <message>
        <source>Failed verification %n time(s)</source>
        <translation>核查不通过 %n 次</translation>
    </message>
    <message>
        <source>Evaluation: quality %1 of 5, %2, on time: %3</source>
        <translation>考核评价：质量 %1 分（满分 5 分），%2，按期办结：%3</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>the county handed the case down</source>
        <translation>县级已交办乡镇</translation>
    </message>
    <message>
        <source>the case was escalated</source>
        <translation>事件已上报升级</translation>
    </message>
    <message>
        <source> · scored %1 of 5</source>
        <translation> · 评分 %1 分</translation>
    </message>
    <message>
        <source> (urged %n time(s))</source>
        <translation>（被督办 %n 次）</translation>
    </message>
    <message>
        <source>Ran past its deadline of %1: counted as not closed on time.</source>
        <translation>已超过办理期限（%1）：计为未按期办结。</translation>
    </message>
    <message>
        <source>Workflow conflict: %1 — %2</source>
        <translation>流程冲突：%1——%2</translation>
    </message>
    <message>
        <source>Field conflict: %1 is “%2” for now; another device set “%3”</source>
        <translation>字段冲突：%1 暂为“%2”，另一台设备改为“%3”</translation>
    </message>
    <message>
        <source>The usual next step (Ctrl+Enter)</source>
        <translation>通常的下一步（Ctrl+Enter）</translation>
    </message>
    <message>
        <source>The step was saved, but some photos were not:</source>
        <translation>操作已保存，但以下照片未能保存：</translation>
    </message>
    <message>
        <source>Add photos to the case</source>
        <translation>为事件添加照片</translation>
    </message>
    <message>
        <source>Photos (%1)</source>
        <translation>照片（%1）</translation>
    </message>
    <message>
        <source>Hide</source>
        <translation>隐藏</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>Show the full number</source>
        <translation>显示完整号码</translation>
    </message>
    <message>
        <source>Only operators and supervisors may see the full number.</source>
        <translation>只有值班员和分管领导可以查看完整号码。</translation>
    </message>
</context>
<context>
    <name>CaseSheet</name>
    <message>
        <source>Dispatch order</source>
        <translation>事件交办单</translation>
    </message>
    <message>
        <source>To</source>
        <translation>承办单位</translation>
    </message>
    <message>
        <source>Together with</source>
        <translation>协同单位</translation>
    </message>
    <message>
        <source>Instructions</source>
        <translation>交办要求</translation>
    </message>
    <message>
        <source>Dispatched</source>
        <translation>交办时间</translation>
    </message>
    <message>
        <source>Received by (signature)</source>
        <translation>签收人（签字）</translation>
    </message>
    <message>
        <source>Result of the handling</source>
        <translation>办理结果</translation>
    </message>
    <message>
        <source> (ran past its deadline of %1)</source>
        <translation>（曾超过期限 %1）</translation>
    </message>
    <message>
        <source> (extended %n time(s))</source>
        <translation>（已延期 %n 次）</translation>
    </message>
    <message>
        <source>Case handling sheet</source>
        <translation>事件处置单</translation>
    </message>
    <message>
        <source>No. %1</source>
        <translation>编号：%1</translation>
    </message>
    <message>
        <source>Printed %1</source>
        <translation>打印时间：%1</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>事件标题</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>事件类别</translation>
    </message>
    <message>
        <source>Urgency</source>
        <translation>紧急程度</translation>
    </message>
    <message>
        <source>Place</source>
        <translation>发生地点</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>信息来源</translation>
    </message>
    <message>
        <source>Reported</source>
        <translation>上报</translation>
    </message>
    <message>
        <source>Reporter</source>
        <translation>反映人</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>事件描述</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>办理状态</translation>
    </message>
    <message>
        <source>Handling due</source>
        <translation>办理时限</translation>
    </message>
    <message>
        <source>Dispatch and handling</source>
        <translation>派遣与处置</translation>
    </message>
    <message>
        <source>Handling unit</source>
        <translation>承办单位</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Result / reason</source>
        <translation>处置结果／理由</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>History</source>
        <translation>流转记录</translation>
    </message>
    <message>
        <source>Verified and closed %1</source>
        <translation>核查通过，%1 结案</translation>
    </message>
    <message>
        <source>Closed on time</source>
        <translation>按期办结</translation>
    </message>
    <message>
        <source>Not closed on time</source>
        <translation>未按期办结</translation>
    </message>
    <message>
        <source>Evaluation: quality %1 of 5, %2</source>
        <translation>考核评价：质量 %1 分（满分 5 分），%2</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>办理结果</translation>
    </message>
    <message>
        <source>Handled by (signature)</source>
        <translation>承办人（签字）</translation>
    </message>
    <message>
        <source>Verified by (signature)</source>
        <translation>核查人（签字）</translation>
    </message>
    <message>
        <source>Supervisor (signature)</source>
        <translation>分管领导（签字）</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>日期</translation>
    </message>
</context>
<context>
    <name>CategoryPicker</name>
    <message>
        <source>Search categories (e.g. dispute, 纠纷, 0101)</source>
        <translation>搜索分类（如：纠纷、漏水、0101）</translation>
    </message>
    <message>
        <source>Categories</source>
        <translation>事件分类</translation>
    </message>
    <message>
        <source>No category chosen</source>
        <translation>未选择分类</translation>
    </message>
    <message>
        <source>Category: %1</source>
        <translation>已选分类：%1</translation>
    </message>
</context>
<context>
    <name>DispatchForm</name>
    <message>
        <source>— choose the lead unit —</source>
        <translation>— 请选择牵头单位 —</translation>
    </message>
    <message>
        <source>Grid: %1</source>
        <translation>网格：%1</translation>
    </message>
    <message>
        <source>Lead unit</source>
        <translation>牵头单位</translation>
    </message>
    <message>
        <source>Assisting departments</source>
        <translation>协办单位</translation>
    </message>
    <message>
        <source>Instructions for the units (optional)</source>
        <translation>对承办单位的要求（选填）</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>派遣意见</translation>
    </message>
    <message>
        <source>Dispatching again replaces the current dispatch and its sub-tasks.</source>
        <translation>重新派遣将替换当前的派遣及各单位子任务。</translation>
    </message>
    <message>
        <source>Joint handling</source>
        <translation>联合处置</translation>
    </message>
    <message>
        <source>Choose the lead unit.</source>
        <translation>请选择牵头单位。</translation>
    </message>
    <message>
        <source>The lead unit cannot also be an assisting unit: %1</source>
        <translation>牵头单位不能同时作为协办单位：%1</translation>
    </message>
    <message>
        <source>A unit is named twice: %1</source>
        <translation>单位重复：%1</translation>
    </message>
    <message>
        <source>, </source>
        <translation>、</translation>
    </message>
</context>
<context>
    <name>EditForm</name>
    <message>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>事件分类</translation>
    </message>
    <message>
        <source>Place</source>
        <translation>所在地</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>事件描述</translation>
    </message>
    <message>
        <source>Urgency</source>
        <translation>紧急程度</translation>
    </message>
    <message>
        <source>— not recorded —</source>
        <translation>— 未记录 —</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Reporter</source>
        <translation>反映人</translation>
    </message>
    <message>
        <source>Reporter&apos;s phone</source>
        <translation>反映人电话</translation>
    </message>
    <message>
        <source>A case needs a title.</source>
        <translation>事件必须有标题。</translation>
    </message>
    <message>
        <source>Nothing was changed.</source>
        <translation>没有修改任何内容。</translation>
    </message>
</context>
<context>
    <name>EscalateForm</name>
    <message>
        <source>Now handled at: %1</source>
        <translation>当前办理层级：%1</translation>
    </message>
    <message>
        <source>Escalate to</source>
        <translation>上报至</translation>
    </message>
    <message>
        <source>Why this level cannot solve it</source>
        <translation>本级无法解决的原因</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>理由</translation>
    </message>
    <message>
        <source>The case is already at the highest level.</source>
        <translation>事件已在最高层级。</translation>
    </message>
    <message>
        <source>Give a reason for escalating.</source>
        <translation>请填写上报升级的理由。</translation>
    </message>
</context>
<context>
    <name>EvaluateForm</name>
    <message>
        <source>Closed on time: %1</source>
        <translation>是否按期办结：%1</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>— choose —</source>
        <translation>— 请选择 —</translation>
    </message>
    <message>
        <source>%1 points</source>
        <translation>%1 分</translation>
    </message>
    <message>
        <source>Quality</source>
        <translation>办理质量</translation>
    </message>
    <message>
        <source>Resident satisfaction</source>
        <translation>群众满意度</translation>
    </message>
    <message>
        <source>Note (optional)</source>
        <translation>备注（选填）</translation>
    </message>
    <message>
        <source>Score the quality from 1 to 5.</source>
        <translation>请为办理质量打分（1–5 分）。</translation>
    </message>
    <message>
        <source>Quality: %1</source>
        <translation>质量评分：%1</translation>
    </message>
    <message>
        <source>Score each unit of the joint dispatch from 1 to 5.</source>
        <translation>请为联合处置的每个承办单位评分（1 至 5 分）。</translation>
    </message>
    <message>
        <source>Choose the resident&apos;s satisfaction.</source>
        <translation>请选择群众满意度。</translation>
    </message>
</context>
<context>
    <name>ExtensionForm</name>
    <message>
        <source>Current deadline: %1</source>
        <translation>当前办理时限：%1</translation>
    </message>
    <message>
        <source>Current deadline: %1, already passed. An extension does not erase the overdue: the case counts as not closed on time.</source>
        <translation>当前期限：%1，已超期。延期不抹去超期记录：本件计为未按期办结。</translation>
    </message>
    <message>
        <source>New deadline</source>
        <translation>延期至</translation>
    </message>
    <message>
        <source>Why more time is needed</source>
        <translation>需要延期的原因</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>理由</translation>
    </message>
    <message>
        <source>The new deadline must be after the current one (%1).</source>
        <translation>新的时限必须晚于当前时限（%1）。</translation>
    </message>
    <message>
        <source>Give a reason for the extension.</source>
        <translation>请填写延期理由。</translation>
    </message>
</context>
<context>
    <name>FeedbackForm</name>
    <message>
        <source>What was done, and the outcome</source>
        <translation>处置经过和结果</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>处置结果</translation>
    </message>
    <message>
        <source>Photos</source>
        <translation>照片</translation>
    </message>
    <message>
        <source>Describe the result of the handling.</source>
        <translation>请填写处置结果。</translation>
    </message>
</context>
<context>
    <name>GridPicker</name>
    <message>
        <source>Search villages and grids by name or code</source>
        <translation>按名称或编码搜索村（社区）和网格</translation>
    </message>
    <message>
        <source>Villages and grids</source>
        <translation>村（社区）和网格</translation>
    </message>
    <message>
        <source>No place chosen</source>
        <translation>未选择所在地</translation>
    </message>
    <message>
        <source>Place: %1 / %2</source>
        <translation>所在地：%1 / %2</translation>
    </message>
    <message>
        <source>Place: %1 (grid not known)</source>
        <translation>所在地：%1（网格不详）</translation>
    </message>
</context>
<context>
    <name>MergeForm</name>
    <message>
        <source>This case is a duplicate. Find the case it duplicates.</source>
        <translation>此事件为重复上报。请查找与之重复的事件。</translation>
    </message>
    <message>
        <source>Case number, or words from its title or address</source>
        <translation>事件编号，或标题、地址中的字词</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>查找</translation>
    </message>
    <message>
        <source>Find</source>
        <translation>查找</translation>
    </message>
    <message>
        <source>Duplicate of</source>
        <translation>合并至</translation>
    </message>
    <message>
        <source>Type a case number or words to search for.</source>
        <translation>请输入要查找的事件编号或字词。</translation>
    </message>
    <message>
        <source>No other case matches “%1”.</source>
        <translation>没有其他事件与“%1”相符。</translation>
    </message>
    <message>
        <source>Search for and choose the case this one duplicates.</source>
        <translation>请查找并选择与之重复的事件。</translation>
    </message>
</context>
<context>
    <name>NoteForm</name>
    <message>
        <source>Accept this case into the loop. Its handling deadline starts now.</source>
        <translation>受理此事件，办理时限自现在起计算。</translation>
    </message>
    <message>
        <source>The case leaves the loop as rejected (invalid or out of scope). Say why.</source>
        <translation>此事件将作不予受理处理（无效或不属于受理范围），请说明理由。</translation>
    </message>
    <message>
        <source>Take the case off the parked list and continue handling.</source>
        <translation>解除挂账，恢复办理。</translation>
    </message>
    <message>
        <source>Archive this closed case. It can then be evaluated, but no longer edited.</source>
        <translation>将已办结事件归档。归档后可考核评价，但不能再修改事件信息。</translation>
    </message>
    <message>
        <source>Take in this case escalated by the township: the county command centre holds it from now on. Its handling deadline runs on.</source>
        <translation>受理乡镇上报的事件：此后由县综合指挥中心负责办理。办理时限继续计算。</translation>
    </message>
    <message>
        <source>Requested: new deadline %1. Reason: %2</source>
        <translation>申请延期至 %1。理由：%2</translation>
    </message>
    <message>
        <source>The deadline %1 has passed: the case stays on record as not closed on time.</source>
        <translation>原期限 %1 已过：批准延期后本件仍计为未按期办结。</translation>
    </message>
    <message>
        <source>Requested: park the case, review on %1. Reason: %2</source>
        <translation>申请挂账，复查日期 %1。理由：%2</translation>
    </message>
    <message>
        <source>Comment</source>
        <translation>备注内容</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>理由</translation>
    </message>
    <message>
        <source>Note (optional)</source>
        <translation>意见（选填）</translation>
    </message>
    <message>
        <source>Write the comment.</source>
        <translation>请填写备注内容。</translation>
    </message>
    <message>
        <source>Give a reason.</source>
        <translation>请填写理由。</translation>
    </message>
</context>
<context>
    <name>ParkForm</name>
    <message>
        <source>Review on</source>
        <translation>复查日期</translation>
    </message>
    <message>
        <source>Why the case cannot be solved now</source>
        <translation>暂时无法解决的原因</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>理由</translation>
    </message>
    <message>
        <source>Give a reason for parking the case.</source>
        <translation>请填写挂账理由。</translation>
    </message>
    <message>
        <source>The review date must be in the future.</source>
        <translation>复查日期必须晚于今天。</translation>
    </message>
</context>
<context>
    <name>PhotoPicker</name>
    <message>
        <source>Chosen photos</source>
        <translation>已选照片</translation>
    </message>
    <message>
        <source>Add photos…</source>
        <translation>添加照片…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>or drag photos here</source>
        <translation>或将照片拖到此处</translation>
    </message>
    <message>
        <source>Choose photos</source>
        <translation>选择照片</translation>
    </message>
    <message>
        <source>Photos (%1)</source>
        <translation>照片（%1）</translation>
    </message>
</context>
<context>
    <name>PhotoStrip</name>
    <message>
        <source>Photos</source>
        <translation>照片</translation>
    </message>
    <message>
        <source>%1 (not on this computer yet)</source>
        <translation>%1（尚未下载到本机）</translation>
    </message>
</context>
<context>
    <name>PhotoViewer</name>
    <message>
        <source>◀ Previous</source>
        <translation>◀ 上一张</translation>
    </message>
    <message>
        <source>Next ▶</source>
        <translation>下一张 ▶</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>%1 of %2: %3</source>
        <translation>第 %1 张，共 %2 张：%3</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>This photo has not reached this computer yet, or it is damaged.</source>
        <translation>这张照片尚未下载到本机，或文件已损坏。</translation>
    </message>
</context>
<context>
    <name>Refusals</name>
    <message>
        <source>this step came before the case was reported</source>
        <translation>该操作发生在事件上报之前</translation>
    </message>
    <message>
        <source>the case was already reported</source>
        <translation>该事件已经上报过</translation>
    </message>
    <message>
        <source>there is no such case yet</source>
        <translation>尚无此事件</translation>
    </message>
    <message>
        <source>there is no such case</source>
        <translation>没有这个事件</translation>
    </message>
    <message>
        <source>this sub-task is not assigned to your unit</source>
        <translation>该子任务不是派给本单位的</translation>
    </message>
    <message>
        <source>only a case awaiting acceptance can be accepted, rejected or merged</source>
        <translation>只有待受理的事件才能受理、不予受理或合并</translation>
    </message>
    <message>
        <source>only an accepted, open case can be dispatched</source>
        <translation>只有已受理、未办结的事件才能派遣</translation>
    </message>
    <message>
        <source>the case is not being handled</source>
        <translation>该事件不在处置中</translation>
    </message>
    <message>
        <source>an extension request is already waiting for approval</source>
        <translation>已有延期申请在等待审批</translation>
    </message>
    <message>
        <source>no extension request is waiting</source>
        <translation>没有待审批的延期申请</translation>
    </message>
    <message>
        <source>the case is not waiting for verification</source>
        <translation>该事件不在待核查状态</translation>
    </message>
    <message>
        <source>only an open case that is not yet handled can be escalated</source>
        <translation>只有尚未处置完毕的在办事件才能上报升级</translation>
    </message>
    <message>
        <source>the case is already at county level</source>
        <translation>该事件已在县级办理</translation>
    </message>
    <message>
        <source>unit scores name each unit of the dispatch with a score of 1 to 5</source>
        <translation>承办单位评分须逐一给出本次派遣的各单位，分值为 1 至 5</translation>
    </message>
    <message>
        <source>%1 is not a unit of the dispatch</source>
        <translation>%1 不是本次派遣的承办单位</translation>
    </message>
    <message>
        <source>the unit urged is not handling this case</source>
        <translation>被督办的单位不是此事件的承办单位</translation>
    </message>
    <message>
        <source>the case was escalated to the county: the county command centre takes this step</source>
        <translation>事件已上报至县级：此步骤由县级指挥中心办理</translation>
    </message>
    <message>
        <source>only an open case can be urged</source>
        <translation>只有在办事件才能督办</translation>
    </message>
    <message>
        <source>only an accepted case in hand can be parked</source>
        <translation>只有已受理、正在办理的事件才能挂账</translation>
    </message>
    <message>
        <source>a park request is already waiting for approval</source>
        <translation>已有挂账申请在等待审批</translation>
    </message>
    <message>
        <source>no park request is waiting</source>
        <translation>没有待审批的挂账申请</translation>
    </message>
    <message>
        <source>the case is no longer in hand</source>
        <translation>该事件已不在办理中</translation>
    </message>
    <message>
        <source>the case is not parked</source>
        <translation>该事件未挂账</translation>
    </message>
    <message>
        <source>only a closed case can be archived</source>
        <translation>只有已办结的事件才能归档</translation>
    </message>
    <message>
        <source>only an archived case can be evaluated</source>
        <translation>只有已归档的事件才能考核评价</translation>
    </message>
    <message>
        <source>an archived case can no longer be edited</source>
        <translation>已归档的事件不能再修改</translation>
    </message>
    <message>
        <source>a report needs a title</source>
        <translation>上报事件需要填写标题</translation>
    </message>
    <message>
        <source>a report needs a grid or a village</source>
        <translation>上报事件需要选择网格或村（社区）</translation>
    </message>
    <message>
        <source>a self-handled report needs the result of the handling</source>
        <translation>自行处置需要填写处置结果</translation>
    </message>
    <message>
        <source>the case&apos;s category is unknown; edit it before accepting</source>
        <translation>事件分类无法识别，请先修改分类再受理</translation>
    </message>
    <message>
        <source>rejecting a case needs a reason</source>
        <translation>不予受理需要说明理由</translation>
    </message>
    <message>
        <source>merging needs the case it duplicates</source>
        <translation>合并需要指定与之重复的事件</translation>
    </message>
    <message>
        <source>a dispatch needs at least one assignee</source>
        <translation>派遣至少需要一个承办单位</translation>
    </message>
    <message>
        <source>each assignee must be a department or a grid</source>
        <translation>承办单位必须是部门或网格</translation>
    </message>
    <message>
        <source>each assignee must be named</source>
        <translation>每个承办单位都必须指明</translation>
    </message>
    <message>
        <source>a dispatch needs exactly one lead unit</source>
        <translation>派遣必须有且只有一个牵头单位</translation>
    </message>
    <message>
        <source>a unit is named twice in the dispatch</source>
        <translation>派遣中有单位重复</translation>
    </message>
    <message>
        <source>this sub-task is not assigned and open</source>
        <translation>该子任务未派给本单位或已办完</translation>
    </message>
    <message>
        <source>returning a dispatch needs a reason</source>
        <translation>退单需要说明理由</translation>
    </message>
    <message>
        <source>an extension needs a new deadline</source>
        <translation>申请延期需要填写新的时限</translation>
    </message>
    <message>
        <source>an extension needs a reason</source>
        <translation>申请延期需要说明理由</translation>
    </message>
    <message>
        <source>the new deadline must be later than the current one</source>
        <translation>新的时限必须晚于当前时限</translation>
    </message>
    <message>
        <source>feedback needs the result of the handling</source>
        <translation>反馈需要填写处置结果</translation>
    </message>
    <message>
        <source>a failed verification needs a reason</source>
        <translation>核查不通过需要说明原因</translation>
    </message>
    <message>
        <source>escalating needs a reason</source>
        <translation>上报升级需要说明理由</translation>
    </message>
    <message>
        <source>a case can only be escalated to a higher level</source>
        <translation>事件只能向更高层级上报</translation>
    </message>
    <message>
        <source>parking a case needs a reason</source>
        <translation>挂账需要说明理由</translation>
    </message>
    <message>
        <source>parking a case needs a review date in the future</source>
        <translation>挂账需要一个今后的复查日期</translation>
    </message>
    <message>
        <source>only a verified case with feedback can be archived</source>
        <translation>只有已反馈并核查通过的事件才能归档</translation>
    </message>
    <message>
        <source>quality is scored 1 to 5</source>
        <translation>办理质量按 1–5 分评分</translation>
    </message>
    <message>
        <source>satisfaction must be satisfied, basic or dissatisfied</source>
        <translation>满意度只能是满意、基本满意或不满意</translation>
    </message>
    <message>
        <source>a comment needs text</source>
        <translation>备注不能为空</translation>
    </message>
    <message>
        <source>an edit needs at least one field</source>
        <translation>修改至少要涉及一个字段</translation>
    </message>
    <message>
        <source>a case needs a title</source>
        <translation>事件必须有标题</translation>
    </message>
    <message>
        <source>a settlement names the steps that do not stand</source>
        <translation>裁定需要指明哪些操作作废</translation>
    </message>
    <message>
        <source>only a case at county level can be handed down</source>
        <translation>只有县级事件才能交办</translation>
    </message>
    <message>
        <source>only a case the county has accepted and not yet closed can be handed down</source>
        <translation>只有县级已受理且未办结的事件才能交办</translation>
    </message>
    <message>
        <source>handing a case down needs instructions for the township</source>
        <translation>交办需要写明给乡镇的办理要求</translation>
    </message>
    <message>
        <source>a %1 may not %2 a case</source>
        <translation>%1无权对事件执行“%2”</translation>
    </message>
    <message>
        <source>unknown category %1</source>
        <translation>未知的事件分类 %1</translation>
    </message>
    <message>
        <source>unknown urgency %1</source>
        <translation>未知的紧急程度 %1</translation>
    </message>
    <message>
        <source>%1 is not an editable case field</source>
        <translation>“%1”不是可修改的事件字段</translation>
    </message>
    <message>
        <source>The photo “%1” is no longer there. Was it moved or deleted?</source>
        <translation>照片“%1”已找不到，是否已被移动或删除？</translation>
    </message>
    <message>
        <source>The photo “%1” cannot be read.</source>
        <translation>照片“%1”无法读取。</translation>
    </message>
    <message>
        <source>The photo “%1” is an empty file.</source>
        <translation>照片“%1”是空文件。</translation>
    </message>
    <message>
        <source>The photo “%1” is too large (at most 30 MB).</source>
        <translation>照片“%1”太大（不能超过 30 MB）。</translation>
    </message>
    <message>
        <source>“%1” is not a photo that can be read: it is damaged or not an image.</source>
        <translation>“%1”不是可读取的照片：文件已损坏，或者根本不是图片。</translation>
    </message>
    <message>
        <source>There is no such case to attach the photo to.</source>
        <translation>找不到要添加照片的事件。</translation>
    </message>
    <message>
        <source>Your account may not add photos.</source>
        <translation>当前账号无权添加照片。</translation>
    </message>
    <message>
        <source>Not saved: %1.</source>
        <translation>未保存：%1。</translation>
    </message>
    <message>
        <source>Something went wrong inside Gridroom; nothing was saved. Your input is kept. Details: %1</source>
        <translation>网格通内部出错，本次操作未保存，已填写的内容仍保留。详细信息：%1</translation>
    </message>
</context>
<context>
    <name>ReportForm</name>
    <message>
        <source>What happened, in a few words</source>
        <translation>用一句话概括发生了什么</translation>
    </message>
    <message>
        <source>Street, house number, landmark</source>
        <translation>街道、门牌号或标志性地点</translation>
    </message>
    <message>
        <source>Who, what, since when; what the caller asks</source>
        <translation>涉及谁、什么情况、从何时开始，群众有何诉求</translation>
    </message>
    <message>
        <source>e.g. 13812345678</source>
        <translation>如：13812345678</translation>
    </message>
    <message>
        <source>Already handled on the spot (自行处置)</source>
        <translation>已现场自行处置</translation>
    </message>
    <message>
        <source>What was done on the spot, and the outcome</source>
        <translation>现场如何处置，结果如何</translation>
    </message>
    <message>
        <source>Handling result</source>
        <translation>处置结果</translation>
    </message>
    <message>
        <source>Report</source>
        <translation>上报</translation>
    </message>
    <message>
        <source>Report the case (Ctrl+Enter)</source>
        <translation>上报事件（Ctrl+Enter）</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清空</translation>
    </message>
    <message>
        <source>Empty the form and discard the draft</source>
        <translation>清空表单并删除草稿</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>事件分类</translation>
    </message>
    <message>
        <source>Village / grid</source>
        <translation>村（社区）/ 网格</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Location</source>
        <translation>事发位置</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>事件描述</translation>
    </message>
    <message>
        <source>Urgency</source>
        <translation>紧急程度</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Reporter</source>
        <translation>反映人</translation>
    </message>
    <message>
        <source>Reporter&apos;s phone</source>
        <translation>联系电话</translation>
    </message>
    <message>
        <source>Photos</source>
        <translation>照片</translation>
    </message>
    <message>
        <source>Only grid workers record matters handled on the spot. A case reported here is accepted and dispatched by the command room.</source>
        <translation>只有网格员可以登记自行处置。在此上报的事件由指挥室受理、派遣。</translation>
    </message>
    <message>
        <source>For a small matter you have already solved yourself (小事不出格).</source>
        <translation>适用于已当场解决的小事（小事不出格）。</translation>
    </message>
    <message>
        <source>Give the case a title.</source>
        <translation>请填写事件标题。</translation>
    </message>
    <message>
        <source>Choose a category (大类 → 小类).</source>
        <translation>请选择事件分类（大类 → 小类）。</translation>
    </message>
    <message>
        <source>Choose the village or grid where it happened.</source>
        <translation>请选择事发的村（社区）或网格。</translation>
    </message>
    <message>
        <source>The phone number should be digits only (e.g. 13812345678).</source>
        <translation>联系电话只能填数字（如 13812345678）。</translation>
    </message>
    <message>
        <source>Only grid workers record matters handled on the spot.</source>
        <translation>只有网格员可以登记自行处置。</translation>
    </message>
    <message>
        <source>Describe what was done on the spot.</source>
        <translation>请填写现场处置结果。</translation>
    </message>
    <message>
        <source>Reported as case %1.</source>
        <translation>已上报，事件编号 %1。</translation>
    </message>
    <message>
        <source>Some photos were not saved:</source>
        <translation>以下照片未能保存：</translation>
    </message>
    <message>
        <source>The draft could not be saved (%1); keep this window open.</source>
        <translation>草稿未能保存（%1），请不要关闭此窗口。</translation>
    </message>
    <message>
        <source>The saved draft could not be read: %1</source>
        <translation>已保存的草稿无法读取：%1</translation>
    </message>
    <message>
        <source>The saved draft was damaged and could not be restored (kept as %1).</source>
        <translation>已保存的草稿已损坏，无法恢复（已另存为 %1）。</translation>
    </message>
    <message>
        <source>Restored the unsent draft from %1.</source>
        <translation>已恢复 %1 未提交的草稿。</translation>
    </message>
</context>
<context>
    <name>ReturnForm</name>
    <message>
        <source>Return the dispatch when it does not belong to your unit. If the lead unit returns it, the whole case goes back to the command room for dispatch.</source>
        <translation>事件不属于本单位职责时可退单。牵头单位退单后，整个事件退回指挥室重新派遣。</translation>
    </message>
    <message>
        <source>Why it is the wrong unit, and who should handle it</source>
        <translation>为何派错，应由哪个单位办理</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>理由</translation>
    </message>
    <message>
        <source>Give a reason for returning the dispatch.</source>
        <translation>请填写退单理由。</translation>
    </message>
</context>
<context>
    <name>SettleForm</name>
    <message>
        <source>Two devices recorded steps that do not fit together. Decide what stands; nothing is deleted, the other step is marked void.</source>
        <translation>两台设备记录的操作相互矛盾。请裁定以哪一步为准；不会删除任何记录，另一步将标记为作废。</translation>
    </message>
    <message>
        <source>Void this step (the case stays as it is)</source>
        <translation>作废此操作（事件保持现状）</translation>
    </message>
    <message>
        <source>Let it stand; void: %1</source>
        <translation>以此操作为准，作废：%1</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>裁定</translation>
    </message>
    <message>
        <source>Keep “%1” (shown now)</source>
        <translation>保留“%1”（当前值）</translation>
    </message>
    <message>
        <source>Use “%1”</source>
        <translation>改用“%1”</translation>
    </message>
    <message>
        <source>Field conflict: %1</source>
        <translation>字段冲突：%1</translation>
    </message>
    <message>
        <source>Note (optional)</source>
        <translation>说明（选填）</translation>
    </message>
    <message>
        <source>(empty)</source>
        <translation>（空）</translation>
    </message>
    <message>
        <source>There is nothing to settle.</source>
        <translation>没有需要裁定的内容。</translation>
    </message>
</context>
<context>
    <name>Timeline</name>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <source>Reported and handled on the spot: %1</source>
        <translation>自行处置：%1</translation>
    </message>
    <message>
        <source>Merged as a duplicate of %1</source>
        <translation>合并至 %1</translation>
    </message>
    <message>
        <source>, </source>
        <translation>、</translation>
    </message>
    <message>
        <source>Dispatched → lead: %1; assisting: %2</source>
        <translation>派遣 → 牵头：%1；协办：%2</translation>
    </message>
    <message>
        <source>Dispatched → %1</source>
        <translation>派遣 → %1</translation>
    </message>
    <message>
        <source>Returned the dispatch (%1): %2</source>
        <translation>退单（%1）：%2</translation>
    </message>
    <message>
        <source>Requested an extension to %1 (%2): %3</source>
        <translation>申请延期至 %1（%2）：%3</translation>
    </message>
    <message>
        <source>Fed back (%1): %2</source>
        <translation>反馈（%1）：%2</translation>
    </message>
    <message>
        <source> (%n photo(s))</source>
        <translation>（照片 %n 张）</translation>
    </message>
    <message>
        <source>Verification passed (%1)</source>
        <translation>核查通过（%1）</translation>
    </message>
    <message>
        <source>Verification failed: %1; sent back for re-handling</source>
        <translation>核查不通过：%1，退回重办</translation>
    </message>
    <message>
        <source>Escalated to %1</source>
        <translation>上报升级至%1</translation>
    </message>
    <message>
        <source>Handed down to the township</source>
        <translation>交办乡镇</translation>
    </message>
    <message>
        <source>Requested parking, review on %1: %2</source>
        <translation>申请挂账（复查日期 %1）：%2</translation>
    </message>
    <message>
        <source>Evaluated: quality %1 of 5, %2</source>
        <translation>考核评价：质量 %1 分，%2</translation>
    </message>
    <message>
        <source>%n step(s) voided</source>
        <translation>作废 %n 项操作</translation>
    </message>
    <message>
        <source>kept %1</source>
        <translation>保留%1</translation>
    </message>
    <message>
        <source>; </source>
        <translation>；</translation>
    </message>
    <message>
        <source> [voided]</source>
        <translation>【已作废】</translation>
    </message>
    <message>
        <source> [not decided; lapsed when the case moved on]</source>
        <translation>【未审批，事件已进入下一环节，申请失效】</translation>
    </message>
    <message>
        <source>Urged %1</source>
        <translation>督办 %1</translation>
    </message>
    <message>
        <source> [%n hour(s) past the deadline]</source>
        <translation>【超期 %n 小时】</translation>
    </message>
    <message>
        <source> [%n day(s) past the deadline]</source>
        <translation>【超期 %n 天】</translation>
    </message>
    <message>
        <source> [conflict: %1]</source>
        <translation>【冲突：%1】</translation>
    </message>
</context>
<context>
    <name>TimelineView</name>
    <message>
        <source>Case history</source>
        <translation>流转记录</translation>
    </message>
</context>
<context>
    <name>UrgeForm</name>
    <message>
        <source>Urge the units handling this case (督办).</source>
        <translation>督办此事件的承办单位。</translation>
    </message>
    <message>
        <source>All units handling the case</source>
        <translation>全部承办单位</translation>
    </message>
    <message>
        <source>Unit urged</source>
        <translation>督办单位</translation>
    </message>
    <message>
        <source>Note (optional)</source>
        <translation>备注（选填）</translation>
    </message>
</context>
<context>
    <name>VerifyForm</name>
    <message>
        <source>Feedback:</source>
        <translation>反馈情况：</translation>
    </message>
    <message>
        <source>Outcome</source>
        <translation>核查结果</translation>
    </message>
    <message>
        <source>Verified</source>
        <translation>核查方式</translation>
    </message>
    <message>
        <source>Note (optional)</source>
        <translation>核查意见（选填）</translation>
    </message>
    <message>
        <source>e.g. the resident confirmed by phone</source>
        <translation>如：电话回访，群众认可</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>不通过原因</translation>
    </message>
    <message>
        <source>What is not done; it goes back for handling</source>
        <translation>哪些问题未解决；事件将退回重办</translation>
    </message>
    <message>
        <source>Say why the verification failed.</source>
        <translation>请说明核查不通过的原因。</translation>
    </message>
</context>
<context>
    <name>Words</name>
    <message>
        <source>Awaiting acceptance</source>
        <translation>待受理</translation>
    </message>
    <message>
        <source>Rejected</source>
        <translation>不予受理</translation>
    </message>
    <message>
        <source>Merged</source>
        <translation>已合并</translation>
    </message>
    <message>
        <source>Awaiting dispatch</source>
        <translation>待派遣</translation>
    </message>
    <message>
        <source>Being handled</source>
        <translation>处置中</translation>
    </message>
    <message>
        <source>Awaiting verification</source>
        <translation>待核查</translation>
    </message>
    <message>
        <source>Parked</source>
        <translation>挂账</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>已办结</translation>
    </message>
    <message>
        <source>Archived</source>
        <translation>已归档</translation>
    </message>
    <message>
        <source>Evaluated</source>
        <translation>已评价</translation>
    </message>
    <message>
        <source>Report</source>
        <translation>发现上报</translation>
    </message>
    <message>
        <source>Handled on the spot</source>
        <translation>自行处置</translation>
    </message>
    <message>
        <source>Accept</source>
        <translation>受理</translation>
    </message>
    <message>
        <source>Reject</source>
        <translation>不予受理</translation>
    </message>
    <message>
        <source>Merge as duplicate</source>
        <translation>合并</translation>
    </message>
    <message>
        <source>Dispatch</source>
        <translation>派遣</translation>
    </message>
    <message>
        <source>Return dispatch</source>
        <translation>退单</translation>
    </message>
    <message>
        <source>Request extension</source>
        <translation>申请延期</translation>
    </message>
    <message>
        <source>Approve extension</source>
        <translation>批准延期</translation>
    </message>
    <message>
        <source>Deny extension</source>
        <translation>驳回延期</translation>
    </message>
    <message>
        <source>Feed back</source>
        <translation>反馈</translation>
    </message>
    <message>
        <source>Verification passed</source>
        <translation>核查通过</translation>
    </message>
    <message>
        <source>Verification failed</source>
        <translation>核查不通过</translation>
    </message>
    <message>
        <source>Escalate</source>
        <translation>上报升级</translation>
    </message>
    <message>
        <source>Hand down to the township</source>
        <translation>交办乡镇</translation>
    </message>
    <message>
        <source>Urge</source>
        <translation>督办</translation>
    </message>
    <message>
        <source>Request parking</source>
        <translation>申请挂账</translation>
    </message>
    <message>
        <source>Approve parking</source>
        <translation>批准挂账</translation>
    </message>
    <message>
        <source>Deny parking</source>
        <translation>驳回挂账</translation>
    </message>
    <message>
        <source>Resume handling</source>
        <translation>恢复办理</translation>
    </message>
    <message>
        <source>Archive</source>
        <translation>归档</translation>
    </message>
    <message>
        <source>Evaluate</source>
        <translation>考核评价</translation>
    </message>
    <message>
        <source>Comment</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>Edit case</source>
        <translation>修改事件信息</translation>
    </message>
    <message>
        <source>Settle conflicts</source>
        <translation>裁定冲突</translation>
    </message>
    <message>
        <source>Grid</source>
        <translation>网格</translation>
    </message>
    <message>
        <source>Village</source>
        <translation>村（社区）</translation>
    </message>
    <message>
        <source>Township</source>
        <translation>乡镇（街道）</translation>
    </message>
    <message>
        <source>County</source>
        <translation>县（区）</translation>
    </message>
    <message>
        <source>Grid patrol</source>
        <translation>网格员巡查</translation>
    </message>
    <message>
        <source>Resident app</source>
        <translation>村情通/随手拍</translation>
    </message>
    <message>
        <source>12345 hotline</source>
        <translation>12345热线</translation>
    </message>
    <message>
        <source>Walk-in</source>
        <translation>群众来访</translation>
    </message>
    <message>
        <source>Department referral</source>
        <translation>部门移交</translation>
    </message>
    <message>
        <source>Video surveillance</source>
        <translation>视频监控</translation>
    </message>
    <message>
        <source>Normal</source>
        <translation>一般</translation>
    </message>
    <message>
        <source>Urgent</source>
        <translation>紧急</translation>
    </message>
    <message>
        <source>Grid worker</source>
        <translation>网格员</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>值班员</translation>
    </message>
    <message>
        <source>Department</source>
        <translation>部门</translation>
    </message>
    <message>
        <source>Supervisor</source>
        <translation>分管领导</translation>
    </message>
    <message>
        <source>County administrator</source>
        <translation>县级管理员</translation>
    </message>
    <message>
        <source>Handling</source>
        <translation>处置中</translation>
    </message>
    <message>
        <source>Returned</source>
        <translation>已退单</translation>
    </message>
    <message>
        <source>Fed back</source>
        <translation>已反馈</translation>
    </message>
    <message>
        <source>Withdrawn</source>
        <translation>已收回</translation>
    </message>
    <message>
        <source>Satisfied</source>
        <translation>满意</translation>
    </message>
    <message>
        <source>Basically satisfied</source>
        <translation>基本满意</translation>
    </message>
    <message>
        <source>Dissatisfied</source>
        <translation>不满意</translation>
    </message>
    <message>
        <source>No deadline running</source>
        <translation>不计时</translation>
    </message>
    <message>
        <source>On time</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>Due soon</source>
        <translation>即将到期</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>已超期</translation>
    </message>
    <message>
        <source>By phone</source>
        <translation>电话回访</translation>
    </message>
    <message>
        <source>On site</source>
        <translation>现场核查</translation>
    </message>
    <message>
        <source>Lead</source>
        <translation>牵头</translation>
    </message>
    <message>
        <source>Assisting</source>
        <translation>协办</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>事件描述</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>事件分类</translation>
    </message>
    <message>
        <source>Village/community</source>
        <translation>村（社区）</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Location</source>
        <translation>事发位置</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Urgency</source>
        <translation>紧急程度</translation>
    </message>
    <message>
        <source>Reporter</source>
        <translation>反映人</translation>
    </message>
    <message>
        <source>Reporter&apos;s phone</source>
        <translation>反映人电话</translation>
    </message>
</context>
<context>
    <name>_TaskForm</name>
    <message>
        <source>Handling unit</source>
        <translation>承办单位</translation>
    </message>
    <message>
        <source>There is no open sub-task of your unit on this case.</source>
        <translation>本单位在此事件上没有待办的子任务。</translation>
    </message>
</context>
</TS>
