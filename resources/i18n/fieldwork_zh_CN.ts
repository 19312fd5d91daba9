<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
    <context>
        <name>ConvertDialog</name>
        <message>
            <source>Turn into a case</source>
            <translation>转为事件</translation>
        </message>
        <message>
            <source>Title</source>
            <translation>标题</translation>
        </message>
        <message>
            <source>Category</source>
            <translation>事件类别</translation>
        </message>
        <message>
            <source>Urgent</source>
            <translation>紧急</translation>
        </message>
        <message>
            <source>Report the case</source>
            <translation>上报事件</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>取消</translation>
        </message>
        <message>
            <source>The case is reported in the visit's grid and names the visit it came from.</source>
            <translation>事件在该走访所在网格上报，并注明来源走访。</translation>
        </message>
    </context>
    <context>
        <name>FieldWork</name>
        <message>
            <source>Say who was visited (or which place was patrolled).</source>
            <translation>请填写走访对象（或巡查地点）。</translation>
        </message>
        <message>
            <source>Write notes or at least one follow-up.</source>
            <translation>请填写记录，或至少一条待办事项。</translation>
        </message>
        <message>
            <source>The location is not a longitude and latitude in degrees (for example 119.17,29.04).</source>
            <translation>位置不是以度为单位的经纬度（例如 119.17,29.04）。</translation>
        </message>
        <message>
            <source>The grid is not a grid of this township.</source>
            <translation>该网格不属于本乡镇。</translation>
        </message>
        <message>
            <source>This is outside your scope: another grid or another township.</source>
            <translation>超出您的权限范围：属于其他网格或其他乡镇。</translation>
        </message>
        <message>
            <source>Only a supervisor may sign off another worker's ledger.</source>
            <translation>只有分管领导可以审核签字他人的工作台账。</translation>
        </message>
        <message>
            <source>Your role does not record visits or patrols.</source>
            <translation>您的角色不能记录走访或巡查。</translation>
        </message>
        <message>
            <source>Only the worker who recorded it, on the device that recorded it, adds to it.</source>
            <translation>只有记录人本人在记录所用的电脑上才能补充。</translation>
        </message>
        <message>
            <source>This follow-up is already a case.</source>
            <translation>该待办已转为事件。</translation>
        </message>
        <message>
            <source>The visit has no such follow-up.</source>
            <translation>该走访没有这条待办。</translation>
        </message>
        <message>
            <source>There is no such visit on this computer.</source>
            <translation>本机没有这条走访记录。</translation>
        </message>
        <message>
            <source>There is no such worker.</source>
            <translation>没有该人员。</translation>
        </message>
        <message>
            <source>The period or the record is not valid: %1</source>
            <translation>周期或记录无效：%1</translation>
        </message>
        <message>
            <source>A visit holds at most 50 follow-ups.</source>
            <translation>一次走访最多记录50条待办。</translation>
        </message>
        <message>
            <source>From the patrol of %1 (%2): %3</source>
            <translation>来源巡查：%1（%2）：%3</translation>
        </message>
        <message>
            <source>From the visit to %1 (%2): %3</source>
            <translation>来源走访：%1（%2）：%3</translation>
        </message>
    </context>
    <context>
        <name>FieldWorkPage</name>
        <message>
            <source>Visits (民情日记)</source>
            <translation>走访·民情日记</translation>
        </message>
        <message>
            <source>Patrols</source>
            <translation>巡查</translation>
        </message>
        <message>
            <source>Work ledger</source>
            <translation>工作台账</translation>
        </message>
    </context>
    <context>
        <name>LedgerTab</name>
        <message>
            <source>Day</source>
            <translation>日</translation>
        </message>
        <message>
            <source>Week</source>
            <translation>周</translation>
        </message>
        <message>
            <source>Month</source>
            <translation>月</translation>
        </message>
        <message>
            <source>Sign off…</source>
            <translation>审核签字…</translation>
        </message>
        <message>
            <source>Worker</source>
            <translation>人员</translation>
        </message>
        <message>
            <source>Period</source>
            <translation>周期</translation>
        </message>
        <message>
            <source>Work</source>
            <translation>工作</translation>
        </message>
        <message>
            <source>Count</source>
            <translation>数量</translation>
        </message>
        <message>
            <source>Time</source>
            <translation>时间</translation>
        </message>
        <message>
            <source>Kind</source>
            <translation>类型</translation>
        </message>
        <message>
            <source>What</source>
            <translation>内容</translation>
        </message>
        <message>
            <source>Details</source>
            <translation>详情</translation>
        </message>
        <message>
            <source>Visits</source>
            <translation>走访</translation>
        </message>
        <message>
            <source>Patrols</source>
            <translation>巡查</translation>
        </message>
        <message>
            <source>Follow-ups written</source>
            <translation>记录待办</translation>
        </message>
        <message>
            <source>Findings written</source>
            <translation>巡查发现</translation>
        </message>
        <message>
            <source>Cases from field work</source>
            <translation>走访巡查转事件</translation>
        </message>
        <message>
            <source>Cases reported</source>
            <translation>上报事件</translation>
        </message>
        <message>
            <source>Other case steps</source>
            <translation>其他事件处理</translation>
        </message>
        <message>
            <source>Base-record updates</source>
            <translation>基础信息更新</translation>
        </message>
        <message>
            <source>Visit</source>
            <translation>走访</translation>
        </message>
        <message>
            <source>Patrol</source>
            <translation>巡查</translation>
        </message>
        <message>
            <source>Case reported</source>
            <translation>上报事件</translation>
        </message>
        <message>
            <source>Case step</source>
            <translation>事件处理</translation>
        </message>
        <message>
            <source>Ledger of %1, %2</source>
            <translation>%1的工作台账 · %2</translation>
        </message>
        <message>
            <source>Not signed off yet.</source>
            <translation>尚未审核签字。</translation>
        </message>
        <message>
            <source>Signed off by %1 on %2.</source>
            <translation>%1 已于 %2 审核签字。</translation>
        </message>
        <message>
            <source>Remarks: %1</source>
            <translation>意见：%1</translation>
        </message>
    </context>
    <context>
        <name>SignOffDialog</name>
        <message>
            <source>Sign off the ledger</source>
            <translation>审核工作台账</translation>
        </message>
        <message>
            <source>Ledger of %1, %2</source>
            <translation>%1的工作台账 · %2</translation>
        </message>
        <message>
            <source>Remarks</source>
            <translation>审核意见</translation>
        </message>
        <message>
            <source>What is good, what must be done again …</source>
            <translation>做得好的地方、需要补做的工作……</translation>
        </message>
        <message>
            <source>Sign off</source>
            <translation>签字确认</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>取消</translation>
        </message>
    </context>
    <context>
        <name>VisitForm</name>
        <message>
            <source>New patrol</source>
            <translation>新建巡查</translation>
        </message>
        <message>
            <source>New visit</source>
            <translation>新建走访</translation>
        </message>
        <message>
            <source>Grid</source>
            <translation>网格</translation>
        </message>
        <message>
            <source>Place</source>
            <translation>地点</translation>
        </message>
        <message>
            <source>Household</source>
            <translation>住户</translation>
        </message>
        <message>
            <source>Organisation</source>
            <translation>单位</translation>
        </message>
        <message>
            <source>Visited</source>
            <translation>走访对象</translation>
        </message>
        <message>
            <source>Road section, market, river bank …</source>
            <translation>路段、市场、河岸……</translation>
        </message>
        <message>
            <source>Household or organisation, e.g. 3组15号 李家</source>
            <translation>住户或单位，如 3组15号 李家</translation>
        </message>
        <message>
            <source>Who</source>
            <translation>对象</translation>
        </message>
        <message>
            <source>Household or organisation number (optional)</source>
            <translation>户号或单位编号（可选）</translation>
        </message>
        <message>
            <source>Record number</source>
            <translation>户号/编号</translation>
        </message>
        <message>
            <source>Names, separated by 、</source>
            <translation>姓名，用“、”分隔</translation>
        </message>
        <message>
            <source>Fire exits, railings, waste points …</source>
            <translation>消防通道、护栏、垃圾收集点……</translation>
        </message>
        <message>
            <source>Checked</source>
            <translation>检查内容</translation>
        </message>
        <message>
            <source>People met</source>
            <translation>接触人员</translation>
        </message>
        <message>
            <source>Notes</source>
            <translation>记录</translation>
        </message>
        <message>
            <source>One per line; each can become a case later</source>
            <translation>每行一条，之后可逐条转为事件</translation>
        </message>
        <message>
            <source>Findings</source>
            <translation>发现问题</translation>
        </message>
        <message>
            <source>Follow-ups</source>
            <translation>待办事项</translation>
        </message>
        <message>
            <source>Longitude,latitude — read from a photo if it has GPS</source>
            <translation>经度,纬度——照片带GPS时自动读取</translation>
        </message>
        <message>
            <source>Location</source>
            <translation>位置</translation>
        </message>
        <message>
            <source>Add photos…</source>
            <translation>添加照片…</translation>
        </message>
        <message>
            <source>Photos</source>
            <translation>照片</translation>
        </message>
        <message>
            <source>Save</source>
            <translation>保存</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>取消</translation>
        </message>
        <message>
            <source>Add photos</source>
            <translation>添加照片</translation>
        </message>
        <message>
            <source>Images (*.jpg *.jpeg *.png *.heic *.webp)</source>
            <translation>图片 (*.jpg *.jpeg *.png *.heic *.webp)</translation>
        </message>
    </context>
    <context>
        <name>VisitsTab</name>
        <message>
            <source>New patrol…</source>
            <translation>新建巡查…</translation>
        </message>
        <message>
            <source>New visit…</source>
            <translation>新建走访…</translation>
        </message>
        <message>
            <source>Everyone's</source>
            <translation>全部人员</translation>
        </message>
        <message>
            <source>Mine</source>
            <translation>我的</translation>
        </message>
        <message>
            <source>Time</source>
            <translation>时间</translation>
        </message>
        <message>
            <source>Grid</source>
            <translation>网格</translation>
        </message>
        <message>
            <source>Place</source>
            <translation>地点</translation>
        </message>
        <message>
            <source>Visited</source>
            <translation>走访对象</translation>
        </message>
        <message>
            <source>Recorded by</source>
            <translation>记录人</translation>
        </message>
        <message>
            <source>Findings</source>
            <translation>发现问题</translation>
        </message>
        <message>
            <source>Follow-ups</source>
            <translation>待办事项</translation>
        </message>
        <message>
            <source>Cases</source>
            <translation>已转事件</translation>
        </message>
        <message>
            <source>Finding</source>
            <translation>发现问题</translation>
        </message>
        <message>
            <source>Follow-up</source>
            <translation>待办事项</translation>
        </message>
        <message>
            <source>Case</source>
            <translation>事件</translation>
        </message>
        <message>
            <source>Turn into a case</source>
            <translation>转为事件</translation>
        </message>
        <message>
            <source>Open the case</source>
            <translation>打开事件</translation>
        </message>
        <message numerus="yes">
            <source>The latest %n record(s)</source>
            <translation>
                <numerusform>最近 %n 条记录</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n record(s)</source>
            <translation>
                <numerusform>%n 条记录</numerusform>
            </translation>
        </message>
        <message>
            <source>Choose a patrol on the left.</source>
            <translation>请在左侧选择一条巡查记录。</translation>
        </message>
        <message>
            <source>Choose a visit on the left.</source>
            <translation>请在左侧选择一条走访记录。</translation>
        </message>
        <message>
            <source>%1 · %2 · recorded by %3</source>
            <translation>%1 · %2 · 记录人 %3</translation>
        </message>
        <message>
            <source>Record number: %1</source>
            <translation>户号/编号：%1</translation>
        </message>
        <message>
            <source>People met: %1</source>
            <translation>接触人员：%1</translation>
        </message>
        <message>
            <source>Checked: %1</source>
            <translation>检查内容：%1</translation>
        </message>
        <message>
            <source>Location: %1</source>
            <translation>位置：%1</translation>
        </message>
        <message>
            <source>not a case</source>
            <translation>未转事件</translation>
        </message>
        <message>
            <source>Case %1 reported from this follow-up.</source>
            <translation>已由该待办上报事件 %1。</translation>
        </message>
    </context>
</TS>