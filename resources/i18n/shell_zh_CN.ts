<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
    <context>
        <name>App</name>
        <message>
            <source>Building the demo township (first run only)…</source>
            <translation>正在生成演示乡镇数据（仅首次运行）…</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>取消</translation>
        </message>
        <message>
            <source>Checking the database</source>
            <extracomment>The demo township: 东华街道, 龙游县 (DOMAIN.md's example), with its operator account. How long startup waits for another program's lock on the store before saying so.</extracomment>
            <translation>检查数据库</translation>
        </message>
        <message>
            <source>Gridroom</source>
            <translation>网格通·指挥室</translation>
        </message>
        <message>
            <source>This computer is not enrolled with a county platform yet.</source>
            <translation>本机尚未接入县级平台。</translation>
        </message>
        <message>
            <source>Your IT department enrols it. Meanwhile you can try Gridroom on the demo township (synthetic cases on real place names), or open a database file.</source>
            <translation>接入由信息化管理员完成。在此之前，您可以先用演示乡镇（真实地名、合成事件）体验网格通，或打开一个数据库文件。</translation>
        </message>
        <message>
            <source>Sign in to the county platform…</source>
            <translation>登录县级平台…</translation>
        </message>
        <message>
            <source>Open the demo township</source>
            <translation>打开演示乡镇</translation>
        </message>
        <message>
            <source>Open a database file…</source>
            <translation>打开数据库文件…</translation>
        </message>
        <message>
            <source>Quit</source>
            <translation>退出</translation>
        </message>
        <message>
            <source>Open a Gridroom database</source>
            <translation>打开网格通数据库</translation>
        </message>
        <message>
            <source>Gridroom database (*.sqlite *.db);;All files (*)</source>
            <translation>网格通数据库 (*.sqlite *.db);;所有文件 (*)</translation>
        </message>
        <message>
            <source>Encrypting the database…</source>
            <translation>正在加密数据库…</translation>
        </message>
        <message>
            <source>Checking the encrypted copy…</source>
            <translation>正在核对加密后的副本…</translation>
        </message>
        <message>
            <source>Encrypting the photos…</source>
            <translation>正在加密照片…</translation>
        </message>
        <message>
            <source>Gridroom cannot open the database</source>
            <translation>网格通无法打开数据库</translation>
        </message>
    </context>
    <context>
        <name>CaseListModel</name>
        <message>
            <source>Deadline</source>
            <translation>时限</translation>
        </message>
        <message>
            <source>Case no.</source>
            <translation>事件编号</translation>
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
            <source>Village</source>
            <translation>村（社区）</translation>
        </message>
        <message>
            <source>Grid</source>
            <translation>网格</translation>
        </message>
        <message>
            <source>Status</source>
            <translation>状态</translation>
        </message>
        <message>
            <source>Level</source>
            <translation>处置层级</translation>
        </message>
        <message>
            <source>Handled by</source>
            <translation>承办单位</translation>
        </message>
        <message>
            <source>Source</source>
            <translation>来源</translation>
        </message>
        <message>
            <source>Reported</source>
            <translation>上报时间</translation>
        </message>
        <message>
            <source>Due</source>
            <translation>办结时限</translation>
        </message>
        <message>
            <source>This column cannot be sorted</source>
            <translation>此列不能排序</translation>
        </message>
        <message>
            <source>Click to sort</source>
            <translation>点击排序</translation>
        </message>
        <message>
            <source>(waiting for the report to arrive)</source>
            <extracomment>Role that carries a row's case id. Role that carries a row's deadline light (``red``/``yellow``/``green``/``none``). Rows the model holds at most (100 pages of 200). The columns a list row needs from the store (the sort keys among them).</extracomment>
            <translation>（等待上报信息同步）</translation>
        </message>
    </context>
    <context>
        <name>CaseListView</name>
        <message>
            <source>Counting…</source>
            <extracomment>What a typical cell of each column holds: the column starts wide enough for it. The user asked to open the case in this row.</extracomment>
            <translation>正在统计…</translation>
        </message>
        <message>
            <source>Export to Excel…</source>
            <translation>导出 Excel…</translation>
        </message>
        <message>
            <source>Write the cases in this list to an .xlsx ledger</source>
            <translation>将列表中的事件导出为 .xlsx 台账</translation>
        </message>
        <message>
            <source>Reading cases</source>
            <translation>读取事件</translation>
        </message>
        <message numerus="yes">
            <source>%n case(s)</source>
            <translation>
                <numerusform>共 %n 条</numerusform>
            </translation>
        </message>
        <message>
            <source> — showing the first %1: narrow the filters, or export to Excel</source>
            <translation> — 仅显示前 %1 条：请缩小筛选范围，或导出 Excel</translation>
        </message>
        <message>
            <source>Export cases to Excel</source>
            <translation>导出事件台账</translation>
        </message>
        <message>
            <source>cases.xlsx</source>
            <translation>事件台账.xlsx</translation>
        </message>
        <message>
            <source>Excel workbook (*.xlsx)</source>
            <translation>Excel 工作簿 (*.xlsx)</translation>
        </message>
        <message numerus="yes">
            <source>%n case(s) exported to %1</source>
            <translation>
                <numerusform>已导出 %n 条事件到 %1</numerusform>
            </translation>
        </message>
        <message>
            <source>Exporting cases to Excel…</source>
            <translation>正在导出事件台账…</translation>
        </message>
        <message>
            <source>Exporting cases</source>
            <translation>导出事件台账</translation>
        </message>
    </context>
    <context>
        <name>CasesPage</name>
        <message>
            <source>The case detail is not part of this build.</source>
            <translation>此版本不含事件详情页面。</translation>
        </message>
        <message>
            <source>The case detail is not part of this build (case %1).</source>
            <translation>此版本不含事件详情页面（事件 %1）。</translation>
        </message>
    </context>
    <context>
        <name>DashboardPage</name>
        <message>
            <source>Today</source>
            <extracomment>Refresh at least this often: lights turn yellow and red with the clock, not only on writes.</extracomment>
            <translation>今日概况</translation>
        </message>
        <message>
            <source>Reported today</source>
            <translation>今日新增</translation>
        </message>
        <message>
            <source>Awaiting acceptance</source>
            <translation>待受理</translation>
        </message>
        <message>
            <source>Awaiting verification</source>
            <translation>待核查</translation>
        </message>
        <message>
            <source>Overdue</source>
            <translation>已超期</translation>
        </message>
        <message>
            <source>Due soon</source>
            <translation>即将到期</translation>
        </message>
        <message>
            <source>Closure rate</source>
            <translation>办结率</translation>
        </message>
        <message>
            <source>On-time closure rate</source>
            <translation>按期办结率</translation>
        </message>
        <message>
            <source>Satisfaction rate</source>
            <translation>满意率</translation>
        </message>
        <message>
            <source>Solved in the grid</source>
            <translation>自处率</translation>
        </message>
        <message>
            <source>Cases reported this month that are closed, of those not rejected or merged</source>
            <translation>本月上报事件中已办结的比例（不含不予受理、已合并的事件）</translation>
        </message>
        <message>
            <source>Closed cases of this month that were closed before their deadline</source>
            <translation>本月已办结事件中在办结时限内办结的比例</translation>
        </message>
        <message>
            <source>Evaluated cases of this month rated satisfied or basically satisfied</source>
            <translation>本月已评价事件中评价为“满意”或“基本满意”的比例</translation>
        </message>
        <message>
            <source>Cases of this month a grid worker solved on the spot (self-handled)</source>
            <translation>本月事件中由网格员现场自行处置的比例</translation>
        </message>
        <message>
            <source>Case no.</source>
            <translation>事件编号</translation>
        </message>
        <message>
            <source>Title</source>
            <translation>事件标题</translation>
        </message>
        <message>
            <source>Village</source>
            <translation>村（社区）</translation>
        </message>
        <message>
            <source>Deadline</source>
            <translation>时限</translation>
        </message>
        <message>
            <source>Show all in the case list</source>
            <translation>在事件列表中查看全部</translation>
        </message>
        <message>
            <source>Last 30 days by category</source>
            <translation>近30天事件（按类别）</translation>
        </message>
        <message>
            <source>Last 30 days by village (top 10)</source>
            <translation>近30天事件（按村社，前10名）</translation>
        </message>
        <message>
            <source>Cases per week</source>
            <translation>每周事件数</translation>
        </message>
        <message>
            <source>This month</source>
            <translation>本月</translation>
        </message>
        <message>
            <source>Could not read the figures</source>
            <translation>无法读取统计数据</translation>
        </message>
        <message>
            <source>Reading the dashboard</source>
            <translation>读取工作台数据</translation>
        </message>
        <message>
            <source>%1 cases this month</source>
            <translation>本月共 %1 件</translation>
        </message>
        <message>
            <source>This month (%1)</source>
            <translation>本月（%1）</translation>
        </message>
        <message>
            <source>Updated %1</source>
            <translation>更新于 %1</translation>
        </message>
    </context>
    <context>
        <name>ErrorDialog</name>
        <message>
            <source>Gridroom</source>
            <translation>网格通·指挥室</translation>
        </message>
    </context>
    <context>
        <name>Errors</name>
        <message>
            <source>The database is in use by another program.</source>
            <translation>数据库正被其他程序占用。</translation>
        </message>
        <message>
            <source>Close the other program (or the other Gridroom window) that has this database open, then try again. Nothing was changed.</source>
            <translation>请关闭正在使用该数据库的其他程序（或另一个网格通窗口）后重试。本次操作没有做任何更改。</translation>
        </message>
        <message>
            <source>The database is damaged.</source>
            <translation>数据库已损坏。</translation>
        </message>
        <message>
            <source>Gridroom will not write to this file any more. Restore it from a backup, or sign in again to make a new database: the county platform has every case this computer synced. Your IT department can help.</source>
            <translation>网格通不会再写入这个文件。请用备份恢复，或重新登录以建立新的数据库：本机同步过的所有事件县级平台都有。信息化管理员可以协助处理。</translation>
        </message>
        <message>
            <source>This file is not a Gridroom database.</source>
            <translation>该文件不是网格通数据库。</translation>
        </message>
        <message>
            <source>Choose the right file. If it is an encrypted database, it needs its key, which is kept in this computer's keyring.</source>
            <translation>请选择正确的文件。如果是加密数据库，需要使用本机密钥环中保存的密钥。</translation>
        </message>
        <message>
            <source>The database key is wrong.</source>
            <translation>数据库密钥不正确。</translation>
        </message>
        <message>
            <source>This computer's keyring holds a different key. Ask your IT department.</source>
            <translation>本机密钥环中保存的密钥与该数据库不符，请联系信息化管理员。</translation>
        </message>
        <message>
            <source>This database is locked by your password.</source>
            <translation>此数据库需要您的密码才能打开。</translation>
        </message>
        <message>
            <source>This computer has no keyring, so the database key is protected by the password of the account that enrolled it. Sign in to open it.</source>
            <translation>本机没有系统密钥环，数据库密钥由注册本机的账号密码保护。请登录后打开。</translation>
        </message>
        <message>
            <source>The password does not open this database.</source>
            <translation>此密码无法打开该数据库。</translation>
        </message>
        <message>
            <source>Type the password of the account that enrolled this computer. Nothing was changed.</source>
            <translation>请输入注册本机的账号的密码。数据未作任何改动。</translation>
        </message>
        <message>
            <source>Wrong PIN.</source>
            <translation>PIN 码错误。</translation>
        </message>
        <message>
            <source>After too many wrong PINs only the password opens the database.</source>
            <translation>PIN 码错误次数过多后，只能用密码打开数据库。</translation>
        </message>
        <message>
            <source>The key of this database is lost.</source>
            <translation>此数据库的密钥已丢失。</translation>
        </message>
        <message>
            <source>This computer's keyring no longer holds it, so nobody can read the file. Sign in again to enrol this computer afresh: the county has the data; only changes that were never synced are lost.</source>
            <translation>本机的系统密钥环中已没有该密钥，任何人都无法读取此文件。请重新登录，重新注册本机：数据在县级平台上都有，只有从未同步过的修改会丢失。</translation>
        </message>
        <message>
            <source>This database is not encrypted.</source>
            <translation>此数据库未加密。</translation>
        </message>
        <message>
            <source>Your IT department requires encrypted databases on this computer. Sign in to encrypt it; nothing was changed.</source>
            <translation>信息化部门要求本机的数据库必须加密。请登录以加密数据库；数据未作任何改动。</translation>
        </message>
        <message>
            <source>The disk is full.</source>
            <translation>磁盘空间已满。</translation>
        </message>
        <message>
            <source>Free some space on the disk and try again. Nothing was saved.</source>
            <translation>请清理磁盘空间后重试。本次内容没有保存。</translation>
        </message>
        <message>
            <source>This database was written by a newer version of Gridroom.</source>
            <translation>该数据库由更新版本的网格通创建。</translation>
        </message>
        <message>
            <source>Install the newer version. This version leaves the file untouched.</source>
            <translation>请安装新版本。当前版本不会改动该文件。</translation>
        </message>
        <message>
            <source>The database cannot be written.</source>
            <translation>数据库无法写入。</translation>
        </message>
        <message>
            <source>Check that the file and its folder may be written by your account.</source>
            <translation>请检查当前系统账户对该文件及其所在文件夹是否有写入权限。</translation>
        </message>
        <message>
            <source>The database could not be used.</source>
            <translation>无法使用该数据库。</translation>
        </message>
        <message>
            <source>This step is not allowed now.</source>
            <translation>当前不能执行此操作。</translation>
        </message>
        <message>
            <source>The spreadsheet could not be used.</source>
            <translation>无法使用该表格文件。</translation>
        </message>
        <message>
            <source>A setting could not be used.</source>
            <translation>有一项设置无法使用。</translation>
        </message>
        <message>
            <source>Permission denied.</source>
            <translation>没有权限。</translation>
        </message>
        <message>
            <source>Gridroom may not write there: %1</source>
            <translation>网格通无权写入：%1</translation>
        </message>
        <message>
            <source>A file could not be read or written.</source>
            <translation>文件无法读取或写入。</translation>
        </message>
        <message>
            <source>Something went wrong inside Gridroom.</source>
            <translation>网格通内部出现错误。</translation>
        </message>
        <message>
            <source>Your data is safe: the step you were taking was not saved. Please tell your IT department what you were doing; the details below help them.</source>
            <translation>您的数据是安全的：刚才的操作没有保存。请告诉信息化管理员您当时在做什么，下面的详细信息可以帮助他们排查。</translation>
        </message>
    </context>
    <context>
        <name>FilterBar</name>
        <message>
            <source>Search title, description, address or case no. (%1)</source>
            <extracomment>CaseQuery fields the bar shows as pickers; any other non-default field is "also filtered".</extracomment>
            <translation>搜索标题、描述、地址或事件编号（%1）</translation>
        </message>
        <message>
            <source>Status</source>
            <translation>状态</translation>
        </message>
        <message>
            <source>All statuses</source>
            <translation>全部状态</translation>
        </message>
        <message>
            <source>Open (in the loop)</source>
            <translation>办理中（未办结）</translation>
        </message>
        <message>
            <source>Deadline light</source>
            <translation>时限状态</translation>
        </message>
        <message>
            <source>Any deadline</source>
            <translation>全部时限</translation>
        </message>
        <message>
            <source>Overdue or due soon</source>
            <translation>超期或即将到期</translation>
        </message>
        <message>
            <source>Category</source>
            <translation>事件大类</translation>
        </message>
        <message>
            <source>All categories</source>
            <translation>全部类别</translation>
        </message>
        <message>
            <source>Sub-category</source>
            <translation>事件小类</translation>
        </message>
        <message>
            <source>Village or community</source>
            <translation>村（社区）</translation>
        </message>
        <message>
            <source>All villages</source>
            <translation>全部村社</translation>
        </message>
        <message>
            <source>Grid</source>
            <translation>网格</translation>
        </message>
        <message>
            <source>Level</source>
            <translation>处置层级</translation>
        </message>
        <message>
            <source>All levels</source>
            <translation>全部层级</translation>
        </message>
        <message>
            <source>Source</source>
            <translation>来源</translation>
        </message>
        <message>
            <source>All sources</source>
            <translation>全部来源</translation>
        </message>
        <message>
            <source>Urgency</source>
            <translation>紧急程度</translation>
        </message>
        <message>
            <source>Any urgency</source>
            <translation>全部紧急程度</translation>
        </message>
        <message>
            <source>Reported</source>
            <translation>上报时间</translation>
        </message>
        <message>
            <source>Reported any time</source>
            <translation>上报时间不限</translation>
        </message>
        <message>
            <source>Reported today</source>
            <translation>今日上报</translation>
        </message>
        <message>
            <source>Last 7 days</source>
            <translation>近7天</translation>
        </message>
        <message>
            <source>Last 30 days</source>
            <translation>近30天</translation>
        </message>
        <message>
            <source>This month</source>
            <translation>本月</translation>
        </message>
        <message>
            <source>Date range…</source>
            <translation>自定义日期…</translation>
        </message>
        <message>
            <source>Reported on or after</source>
            <translation>上报日期起</translation>
        </message>
        <message>
            <source>Reported on or before</source>
            <translation>上报日期止</translation>
        </message>
        <message>
            <source>Whose cases</source>
            <translation>事件归属</translation>
        </message>
        <message>
            <source>Saved filters</source>
            <translation>常用筛选</translation>
        </message>
        <message>
            <source>Save…</source>
            <translation>保存…</translation>
        </message>
        <message>
            <source>Save these filters under a name</source>
            <translation>将当前筛选条件命名保存</translation>
        </message>
        <message>
            <source>Delete</source>
            <translation>删除</translation>
        </message>
        <message>
            <source>Delete the chosen saved filter</source>
            <translation>删除选中的常用筛选</translation>
        </message>
        <message>
            <source>Clear filters</source>
            <translation>清除筛选</translation>
        </message>
        <message>
            <source>Drop these conditions</source>
            <translation>去掉这些条件</translation>
        </message>
        <message>
            <source>Saved:</source>
            <translation>常用筛选：</translation>
        </message>
        <message>
            <source>All sub-categories</source>
            <translation>全部小类</translation>
        </message>
        <message>
            <source>All grids</source>
            <translation>全部网格</translation>
        </message>
        <message>
            <source>Everyone's cases</source>
            <translation>全部事件</translation>
        </message>
        <message>
            <source>Reported by me</source>
            <translation>我上报的</translation>
        </message>
        <message>
            <source>Assigned to my department (%1)</source>
            <translation>交办本部门（%1）</translation>
        </message>
        <message>
            <source>Assigned to my grid (%1)</source>
            <translation>交办本网格（%1）</translation>
        </message>
        <message>
            <source>(none)</source>
            <translation>（无）</translation>
        </message>
        <message>
            <source>status is %1</source>
            <translation>状态为%1</translation>
        </message>
        <message>
            <source> or </source>
            <translation>或</translation>
        </message>
        <message>
            <source>still in the loop</source>
            <translation>未办结</translation>
        </message>
        <message>
            <source>closed %1 – %2</source>
            <translation>办结于 %1 至 %2</translation>
        </message>
        <message>
            <source>self-handled in the grid</source>
            <translation>网格自处</translation>
        </message>
        <message>
            <source>not self-handled</source>
            <translation>非网格自处</translation>
        </message>
        <message>
            <source>with sync conflicts to settle</source>
            <translation>有待裁定的同步冲突</translation>
        </message>
        <message>
            <source>category %1</source>
            <translation>类别 %1</translation>
        </message>
        <message>
            <source>assigned to %1</source>
            <translation>交办 %1</translation>
        </message>
        <message>
            <source>ever dispatched to %1</source>
            <translation>曾派给 %1</translation>
        </message>
        <message>
            <source>reported by %1</source>
            <translation>%1 上报</translation>
        </message>
        <message>
            <source>Also filtered: %1</source>
            <translation>另有筛选条件：%1</translation>
        </message>
        <message>
            <source>; </source>
            <translation>；</translation>
        </message>
        <message>
            <source>Save filters</source>
            <translation>保存常用筛选</translation>
        </message>
        <message>
            <source>Name for these filters:</source>
            <translation>筛选名称：</translation>
        </message>
    </context>
    <context>
        <name>GridDetail</name>
        <message>
            <source>Choose a grid on the left</source>
            <translation>请在左侧选择网格</translation>
        </message>
        <message>
            <source>Team (one leader, three workers)</source>
            <translation>一长三员</translation>
        </message>
        <message>
            <source>Role</source>
            <translation>职责</translation>
        </message>
        <message>
            <source>Name</source>
            <translation>姓名</translation>
        </message>
        <message>
            <source>Phone</source>
            <translation>电话</translation>
        </message>
        <message>
            <source>Department liaisons (1+N)</source>
            <translation>1+N 部门联络员</translation>
        </message>
        <message>
            <source>Department</source>
            <translation>部门</translation>
        </message>
        <message>
            <source>Grids:</source>
            <translation>网格数：</translation>
        </message>
        <message>
            <source>Households:</source>
            <translation>户数：</translation>
        </message>
        <message>
            <source>People:</source>
            <translation>人口：</translation>
        </message>
        <message numerus="yes">
            <source>%n open case(s)</source>
            <translation>
                <numerusform>在办事件 %n 件</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n overdue case(s)</source>
            <translation>
                <numerusform>超期事件 %n 件</numerusform>
            </translation>
        </message>
        <message>
            <source>County</source>
            <translation>县（市、区）</translation>
        </message>
        <message>
            <source>Township or street</source>
            <translation>乡镇（街道）</translation>
        </message>
        <message>
            <source>Village or community</source>
            <translation>村（社区）</translation>
        </message>
        <message>
            <source>Far above the standard size for its kind (about %1 households or %2 people): worth re-drawing the grid.</source>
            <translation>规模远超同类网格标准（约 %1 户或 %2 人），建议重新划分网格。</translation>
        </message>
        <message>
            <source>Reading the grid's team</source>
            <translation>读取网格队伍</translation>
        </message>
        <message>
            <source>Department liaisons (1+N): %1</source>
            <translation>1+N 部门联络员：%1 人</translation>
        </message>
    </context>
    <context>
        <name>GridTreeModel</name>
        <message>
            <source>Name</source>
            <extracomment>Role carrying the node's dict (code, name, level, counts …). Role carrying the text the search box matches (name, short name and code).</extracomment>
            <translation>名称</translation>
        </message>
        <message>
            <source>Open</source>
            <translation>在办</translation>
        </message>
        <message>
            <source>Overdue</source>
            <translation>超期</translation>
        </message>
        <message>
            <source>Far above the standard size for its kind</source>
            <translation>规模远超同类网格标准</translation>
        </message>
    </context>
    <context>
        <name>GridsPage</name>
        <message>
            <source>Find a village or grid by name or code</source>
            <translation>按名称或编码查找村社、网格</translation>
        </message>
        <message>
            <source>Reading the grids</source>
            <translation>读取网格</translation>
        </message>
    </context>
    <context>
        <name>Labels</name>
        <message>
            <source>Grid leader</source>
            <translation>网格长</translation>
        </message>
        <message>
            <source>Full-time grid worker</source>
            <translation>专职网格员</translation>
        </message>
        <message>
            <source>Part-time grid worker</source>
            <translation>兼职网格员</translation>
        </message>
        <message>
            <source>Grid instructor</source>
            <translation>网格指导员</translation>
        </message>
        <message>
            <source>Department liaison</source>
            <translation>部门联络员</translation>
        </message>
        <message>
            <source>Basic grid (urban)</source>
            <translation>基础网格（城镇）</translation>
        </message>
        <message>
            <source>Basic grid (rural)</source>
            <translation>基础网格（农村）</translation>
        </message>
        <message>
            <source>Dedicated grid</source>
            <translation>专属网格</translation>
        </message>
        <message>
            <source>%1 d %2 h</source>
            <translation>%1天%2小时</translation>
        </message>
        <message>
            <source>%1 h</source>
            <translation>%1小时</translation>
        </message>
        <message>
            <source>%1 min</source>
            <translation>%1分钟</translation>
        </message>
        <message>
            <source>overdue %1</source>
            <translation>超期%1</translation>
        </message>
        <message>
            <source>due in %1</source>
            <translation>剩余%1</translation>
        </message>
    </context>
    <context>
        <name>MainWindow</name>
        <message>
            <source>The quick report form is not part of this build.</source>
            <translation>此版本不含事件上报表单。</translation>
        </message>
        <message>
            <source>Dashboard</source>
            <translation>工作台</translation>
        </message>
        <message>
            <source>Cases</source>
            <translation>事件</translation>
        </message>
        <message>
            <source>New case</source>
            <translation>新建事件</translation>
        </message>
        <message>
            <source>Grids</source>
            <translation>网格</translation>
        </message>
        <message>
            <source>Map</source>
            <translation>地图</translation>
        </message>
        <message>
            <source>Statistics</source>
            <translation>统计</translation>
        </message>
        <message>
            <source>Field work</source>
            <translation>走访巡查</translation>
        </message>
        <message>
            <source>Sync</source>
            <translation>同步</translation>
        </message>
        <message>
            <source>Settings</source>
            <translation>设置</translation>
        </message>
        <message>
            <source>Gridroom</source>
            <translation>网格通·指挥室</translation>
        </message>
        <message>
            <source>%1 (demo data)</source>
            <translation>%1（演示数据）</translation>
        </message>
        <message>
            <source>No overdue cases.</source>
            <translation>没有超期事件。</translation>
        </message>
        <message>
            <source>Open a case first.</source>
            <translation>请先打开一个事件。</translation>
        </message>
        <message>
            <source>&amp;File</source>
            <translation>文件(&amp;F)</translation>
        </message>
        <message>
            <source>Export case list to Excel…</source>
            <translation>导出事件台账…</translation>
        </message>
        <message>
            <source>Quit</source>
            <translation>退出</translation>
        </message>
        <message>
            <source>&amp;Go</source>
            <translation>转到(&amp;G)</translation>
        </message>
        <message>
            <source>&amp;Cases</source>
            <translation>事件(&amp;C)</translation>
        </message>
        <message>
            <source>Find cases</source>
            <translation>查找事件</translation>
        </message>
        <message>
            <source>Open the next overdue case</source>
            <translation>打开下一件超期事件</translation>
        </message>
        <message>
            <source>Take the case's main step</source>
            <translation>执行当前事件的主要操作</translation>
        </message>
        <message>
            <source>Refresh</source>
            <translation>刷新</translation>
        </message>
        <message>
            <source>Close the case detail</source>
            <translation>关闭事件详情</translation>
        </message>
        <message>
            <source>&amp;Help</source>
            <translation>帮助(&amp;H)</translation>
        </message>
        <message>
            <source>Keyboard shortcuts</source>
            <translation>快捷键</translation>
        </message>
        <message>
            <source>About Gridroom</source>
            <translation>关于网格通</translation>
        </message>
        <message>
            <source>Gridroom (网格通·指挥室): the township command room's offline-first case desk.</source>
            <translation>网格通·指挥室：乡镇综合信息指挥室的离线优先事件办理平台。</translation>
        </message>
    </context>
    <context>
        <name>SettingsPage</name>
        <message>
            <source>Settings</source>
            <translation>设置</translation>
        </message>
        <message>
            <source>Takes effect when Gridroom restarts.</source>
            <translation>重新启动网格通后生效。</translation>
        </message>
        <message>
            <source>Switch account</source>
            <translation>切换账号</translation>
        </message>
        <message>
            <source>Until this computer signs in to the county platform, you may work as any account stored on it.</source>
            <translation>本机接入县级平台之前，可以使用本机保存的任一账号工作。</translation>
        </message>
        <message>
            <source>Choose…</source>
            <translation>选择…</translation>
        </message>
        <message>
            <source>Language</source>
            <translation>语言</translation>
        </message>
        <message>
            <source>Interface language:</source>
            <translation>界面语言：</translation>
        </message>
        <message>
            <source>Account</source>
            <translation>账号</translation>
        </message>
        <message>
            <source>Signed in as:</source>
            <translation>当前账号：</translation>
        </message>
        <message>
            <source>Work as:</source>
            <translation>切换为：</translation>
        </message>
        <message>
            <source>Data</source>
            <translation>数据</translation>
        </message>
        <message>
            <source>Data folder:</source>
            <translation>数据文件夹：</translation>
        </message>
        <message>
            <source>Open database:</source>
            <translation>当前数据库：</translation>
        </message>
        <message>
            <source>County platform and lists</source>
            <translation>县级平台与列表</translation>
        </message>
        <message>
            <source>County server:</source>
            <translation>县级平台地址：</translation>
        </message>
        <message>
            <source>Rows per page:</source>
            <translation>每页行数：</translation>
        </message>
        <message>
            <source>Set by your IT department; it cannot be changed here.</source>
            <translation>由信息化管理员统一设置，此处不能修改。</translation>
        </message>
        <message>
            <source>Set by your IT department</source>
            <translation>由信息化管理员统一设置</translation>
        </message>
        <message>
            <source>Saving a setting</source>
            <translation>保存设置</translation>
        </message>
        <message>
            <source>Saved. The new language shows when Gridroom restarts.</source>
            <translation>已保存。重新启动网格通后显示新语言。</translation>
        </message>
        <message>
            <source>Enter a full path, e.g. %1</source>
            <translation>请输入完整路径，例如 %1</translation>
        </message>
        <message>
            <source>Saved. Gridroom uses this folder after a restart.</source>
            <translation>已保存。重新启动后网格通将使用该文件夹。</translation>
        </message>
        <message>
            <source>Data folder</source>
            <translation>数据文件夹</translation>
        </message>
        <message>
            <source>Reading accounts</source>
            <translation>读取账号</translation>
        </message>
    </context>
    <context>
        <name>StatsPage</name>
        <message>
            <source>Statistics</source>
            <extracomment>Why the county's weights could not be used (the defaults apply), or None.</extracomment>
            <translation>统计</translation>
        </message>
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
            <source>Quarter</source>
            <translation>季度</translation>
        </message>
        <message>
            <source>Year</source>
            <translation>年</translation>
        </message>
        <message>
            <source>Custom range</source>
            <translation>自定义时段</translation>
        </message>
        <message>
            <source>to</source>
            <translation>至</translation>
        </message>
        <message>
            <source>Reading the figures…</source>
            <translation>正在读取统计数据…</translation>
        </message>
        <message>
            <source>Export monthly report</source>
            <translation>导出月报</translation>
        </message>
        <message>
            <source>Write this period's report as PDF (to print) or Excel workbook</source>
            <translation>将本期报表导出为 PDF（打印用）或 Excel 工作簿</translation>
        </message>
        <message>
            <source>Township</source>
            <translation>乡镇（街道）</translation>
        </message>
        <message>
            <source>Category</source>
            <translation>事件类别</translation>
        </message>
        <message>
            <source>Village / community</source>
            <translation>村（社区）</translation>
        </message>
        <message>
            <source>Grid</source>
            <translation>网格</translation>
        </message>
        <message>
            <source>Department</source>
            <translation>承办部门</translation>
        </message>
        <message>
            <source>Reporter</source>
            <translation>上报人</translation>
        </message>
        <message>
            <source>Source</source>
            <translation>事件来源</translation>
        </message>
        <message>
            <source>Level</source>
            <translation>办理层级</translation>
        </message>
        <message>
            <source>Cases received (top 10)</source>
            <translation>受理量（前10）</translation>
        </message>
        <message>
            <source>Hover over a score to see how it is made up. Click a row for its cases.</source>
            <translation>鼠标停在得分上可查看得分构成；点击一行可查看对应事件。</translation>
        </message>
        <message>
            <source>Break down by</source>
            <translation>分组方式</translation>
        </message>
        <message>
            <source>Assessment ranking by</source>
            <translation>考核排名</translation>
        </message>
        <message>
            <source>Reading statistics</source>
            <translation>读取统计数据</translation>
        </message>
        <message>
            <source>Cases received</source>
            <translation>受理总量</translation>
        </message>
        <message>
            <source>Valid cases</source>
            <translation>有效件数</translation>
        </message>
        <message>
            <source>Closed</source>
            <translation>办结件数</translation>
        </message>
        <message>
            <source>Closure rate</source>
            <translation>办结率</translation>
        </message>
        <message>
            <source>On-time closure rate</source>
            <translation>按期办结率</translation>
        </message>
        <message>
            <source>Satisfaction rate</source>
            <translation>满意率</translation>
        </message>
        <message>
            <source>Self-handled rate</source>
            <translation>自处率</translation>
        </message>
        <message>
            <source>Dispute resolution rate</source>
            <translation>化解率</translation>
        </message>
        <message>
            <source>Average handling time (working days)</source>
            <translation>平均办理时长（工作日）</translation>
        </message>
        <message>
            <source>Overdue</source>
            <translation>超期件数</translation>
        </message>
        <message>
            <source>Urged</source>
            <translation>督办件数</translation>
        </message>
        <message>
            <source>Return rate</source>
            <translation>退单率</translation>
        </message>
        <message>
            <source>Verification failure rate</source>
            <translation>核查不通过率</translation>
        </message>
        <message>
            <source>Parked</source>
            <translation>挂账件数</translation>
        </message>
        <message>
            <source>Figure</source>
            <translation>指标</translation>
        </message>
        <message>
            <source>This period</source>
            <translation>本期</translation>
        </message>
        <message>
            <source>Previous period</source>
            <translation>上期</translation>
        </message>
        <message>
            <source>Change</source>
            <translation>变化</translation>
        </message>
        <message>
            <source>Same period last year</source>
            <translation>去年同期</translation>
        </message>
        <message>
            <source>%1 pt</source>
            <translation>%1个百分点</translation>
        </message>
        <message>
            <source>(not given)</source>
            <translation>（未填）</translation>
        </message>
        <message>
            <source>Assigned</source>
            <translation>承办</translation>
        </message>
        <message>
            <source>Lead</source>
            <translation>主办</translation>
        </message>
        <message>
            <source>Assisting</source>
            <translation>协办</translation>
        </message>
        <message>
            <source>Fed back on time</source>
            <translation>按期反馈率</translation>
        </message>
        <message>
            <source>Returned</source>
            <translation>退单</translation>
        </message>
        <message>
            <source>Closure rate (as lead)</source>
            <translation>主办办结率</translation>
        </message>
        <message>
            <source>Satisfaction (as lead)</source>
            <translation>主办满意率</translation>
        </message>
        <message>
            <source>Verification failure rate (as lead)</source>
            <translation>主办核查不通过率</translation>
        </message>
        <message>
            <source>Average days</source>
            <translation>平均办理时长</translation>
        </message>
        <message>
            <source>the county's weights are not valid JSON</source>
            <translation>县级下发的考核权重不是有效的 JSON</translation>
        </message>
        <message>
            <source>the county's weights must be a JSON object like %1</source>
            <translation>县级下发的考核权重应为 JSON 对象，如 %1</translation>
        </message>
        <message>
            <source>, </source>
            <translation>、</translation>
        </message>
        <message>
            <source>the county's weights name an unknown component %1 (known: %2)</source>
            <translation>县级下发的考核权重含有未知分项 %1（可用分项：%2）</translation>
        </message>
        <message>
            <source>the county's weight of %1 must be a number of 0 or more</source>
            <translation>县级下发的 %1 权重应为不小于 0 的数</translation>
        </message>
        <message>
            <source>the county's weights are all 0; at least one must be above 0</source>
            <translation>县级下发的考核权重全为 0，至少一个分项应大于 0</translation>
        </message>
        <message>
            <source>The default weights apply: %1</source>
            <translation>已按缺省权重评分：%1</translation>
        </message>
        <message>
            <source>Rank</source>
            <translation>名次</translation>
        </message>
        <message>
            <source>Score</source>
            <translation>得分</translation>
        </message>
        <message>
            <source>Cases</source>
            <translation>件数</translation>
        </message>
        <message>
            <source>report-%1.pdf</source>
            <translation>月报-%1.pdf</translation>
        </message>
        <message>
            <source>PDF (*.pdf);;Excel workbook (*.xlsx)</source>
            <translation>PDF 文件 (*.pdf);;Excel 工作簿 (*.xlsx)</translation>
        </message>
        <message>
            <source>Writing the report…</source>
            <translation>正在生成报表…</translation>
        </message>
        <message>
            <source>Writing the report</source>
            <translation>生成报表</translation>
        </message>
    </context>
    <context>
        <name>StatusBar</name>
        <message>
            <source>Online</source>
            <extracomment>Meta keys the sync client records its last success under (first one present wins). the user clicked the refused-records figure (show the 同步 page)</extracomment>
            <translation>在线</translation>
        </message>
        <message>
            <source>Offline</source>
            <translation>离线</translation>
        </message>
        <message>
            <source>Offline — no county server configured</source>
            <translation>离线 — 未配置县级平台</translation>
        </message>
        <message>
            <source>Offline — not connected to the county server yet</source>
            <translation>离线 — 尚未连接县级平台</translation>
        </message>
        <message>
            <source>Signed in: %1 (%2)</source>
            <translation>当前账号：%1（%2）</translation>
        </message>
        <message>
            <source>Sync state unknown: the database could not be read</source>
            <translation>同步状态未知：无法读取数据库</translation>
        </message>
        <message numerus="yes">
            <source>%n change(s) waiting to sync</source>
            <translation>
                <numerusform>%n 条变更待同步</numerusform>
            </translation>
        </message>
        <message>
            <source>Last sync: never</source>
            <translation>上次同步：从未</translation>
        </message>
        <message>
            <source>Last sync: %1</source>
            <translation>上次同步：%1</translation>
        </message>
        <message numerus="yes">
            <source>%n case(s) with conflicts</source>
            <translation>
                <numerusform>%n 件事件有冲突</numerusform>
            </translation>
        </message>
        <message>
            <source>No conflicts</source>
            <translation>无冲突</translation>
        </message>
    </context>
    <context>
        <name>dialog</name>
        <message>
            <source>Cancel</source>
            <translation>取消</translation>
        </message>
    </context>
</TS>
