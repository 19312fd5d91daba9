<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ConflictsPanel</name>
    <message>
        <source>No conflicts: nothing to settle.</source>
        <extracomment>Steps that move a case along (the ones that can clash); notes and edits never do. Fields a person may type a merged value into (the others are codes: pick one side). whether voiding ``other`` lets the flagged step fit (replayed before it is offered)</extracomment>
        <translation>没有冲突，无需裁定。</translation>
    </message>
    <message numerus="yes">
        <source>%n conflict(s)</source>
        <translation>
            <numerusform>%n 处冲突</numerusform>
        </translation>
    </message>
    <message>
        <source>Waiting for the case&apos;s report</source>
        <translation>等待该事件的上报记录</translation>
    </message>
    <message>
        <source>Open the case</source>
        <translation>打开事件</translation>
    </message>
    <message>
        <source>Steps of this case arrived before its report. They settle by themselves when the report arrives with the next sync.</source>
        <translation>该事件的流转记录先于上报记录到达，下次同步收到上报记录后会自动消除。</translation>
    </message>
    <message>
        <source>Your role cannot settle this; an operator or a supervisor settles conflicts.</source>
        <translation>您的角色不能裁定此冲突，请由值班员或督办人员裁定。</translation>
    </message>
    <message>
        <source>this computer</source>
        <translation>本机</translation>
    </message>
    <message>
        <source>device %1</source>
        <translation>设备 %1</translation>
    </message>
    <message>
        <source>(empty)</source>
        <translation>（空）</translation>
    </message>
    <message>
        <source>Settling a conflict</source>
        <translation>裁定冲突</translation>
    </message>
</context>
<context>
    <name>FieldConflictBox</name>
    <message>
        <source>Field: %1</source>
        <translation>字段：%1</translation>
    </message>
    <message>
        <source>My change (this computer)</source>
        <translation>我的修改（本机）</translation>
    </message>
    <message>
        <source>Their change (device %1)</source>
        <translation>对方的修改（设备 %1）</translation>
    </message>
    <message>
        <source>Change on device %1</source>
        <translation>设备 %1 上的修改</translation>
    </message>
    <message>
        <source>— shown now</source>
        <translation>— 当前显示</translation>
    </message>
    <message>
        <source>Keep mine</source>
        <translation>保留我的</translation>
    </message>
    <message>
        <source>Keep theirs</source>
        <translation>保留对方的</translation>
    </message>
    <message>
        <source>Keep this one</source>
        <translation>保留这个</translation>
    </message>
    <message>
        <source>Save the merged value</source>
        <translation>保存合并后的内容</translation>
    </message>
    <message>
        <source>Or merge them:</source>
        <translation>或者合并两者：</translation>
    </message>
</context>
<context>
    <name>HistoryPanel</name>
    <message>
        <source>When</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Outcome</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>上传</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Data</source>
        <translation>流量</translation>
    </message>
    <message>
        <source>What happened</source>
        <translation>说明</translation>
    </message>
    <message>
        <source>No sync has run on this computer yet.</source>
        <translation>这台电脑还没有同步过。</translation>
    </message>
    <message>
        <source>Everything is in step with the county.</source>
        <translation>与县级平台一致。</translation>
    </message>
    <message>
        <source>Cancelled; what was done is kept and the rest goes next time.</source>
        <translation>已取消；已完成的部分保留，其余下次继续。</translation>
    </message>
    <message numerus="yes">
        <source>%n record(s) refused by the county (see Quarantine)</source>
        <translation>
            <numerusform>%n 条记录被县级平台拒收（见“被拒收”）</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n change(s) still waiting to go</source>
        <translation>
            <numerusform>仍有 %n 条变更待发送</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n photo(s) could not be moved</source>
        <translation>
            <numerusform>%n 张照片未能传输</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n refused record(s) wait in quarantine</source>
        <translation>
            <numerusform>%n 条被拒收的记录待处理</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <source>Sign in to the county platform</source>
        <extracomment>offline: why the county could not be reached (its error code and the client&apos;s sentence) Sign-in transport: a short backoff between urllib3&apos;s connection retries, so a person learns within a second or two that the county cannot be reached (and may sign in offline).</extracomment>
        <translation>登录县级平台</translation>
    </message>
    <message>
        <source>Sign in with the account your county gave you. The first sign-in on this computer needs the network; after that, when the county cannot be reached, the same account and password sign in offline.</source>
        <translation>请使用县里分配的账号登录。这台电脑第一次登录需要联网；之后连不上县级平台时，可用同一账号和密码离线登录。</translation>
    </message>
    <message>
        <source>Set by your IT department; it cannot be changed here.</source>
        <translation>由信息化管理员统一设置，此处不能修改。</translation>
    </message>
    <message>
        <source>e.g. 330825102-op</source>
        <translation>例如 330825102-op</translation>
    </message>
    <message>
        <source>optional, 4 to 12 digits</source>
        <translation>可不填，4 至 12 位数字</translation>
    </message>
    <message>
        <source>This computer has no keyring: your password protects the database. With the password, a PIN typed here is kept for quick unlock next time; then the PIN alone opens the database (5 wrong PINs and the password is needed again).</source>
        <translation>本机没有系统密钥环：数据库由您的密码保护。输入密码的同时在此填写 PIN 码，下次即可只用 PIN 码快速解锁数据库（PIN 码输错 5 次后需重新输入密码）。</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>登录</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>County server:</source>
        <translation>县级平台：</translation>
    </message>
    <message>
        <source>Account:</source>
        <translation>账号：</translation>
    </message>
    <message>
        <source>Password:</source>
        <translation>密码：</translation>
    </message>
    <message>
        <source>PIN:</source>
        <translation>PIN 码：</translation>
    </message>
    <message>
        <source>A PIN is 4 to 12 digits.</source>
        <translation>PIN 码应为 4 至 12 位数字。</translation>
    </message>
    <message>
        <source>Unlocking with the PIN…</source>
        <translation>正在用 PIN 码解锁…</translation>
    </message>
    <message>
        <source>Enter the server address, your account and your password.</source>
        <translation>请填写服务器地址、账号和密码。</translation>
    </message>
    <message>
        <source>Connecting to the county platform…</source>
        <translation>正在连接县级平台…</translation>
    </message>
    <message>
        <source>The server address must start with https:// (or http://).</source>
        <translation>服务器地址须以 https://（或 http://）开头。</translation>
    </message>
    <message>
        <source>Too many failed sign-ins: try again in %1 seconds.</source>
        <translation>登录失败次数过多，请 %1 秒后再试。</translation>
    </message>
    <message>
        <source>Wrong password (checked against this computer&apos;s copy, because the county cannot be reached).</source>
        <translation>密码不正确（连不上县级平台，已按本机保存的登录记录核对）。</translation>
    </message>
    <message>
        <source>The county cannot be reached, and this account has never signed in online on this computer: the first sign-in needs the network.</source>
        <translation>连不上县级平台，而且该账号从未在这台电脑上联网登录过：第一次登录需要联网。</translation>
    </message>
    <message>
        <source>Wrong PIN, too many times: the PIN was removed. Sign in with your password.</source>
        <translation>PIN 码错误次数过多，PIN 码已被删除。请用密码登录。</translation>
    </message>
    <message>
        <source>Wrong PIN: %1 tries left before the password is needed.</source>
        <translation>PIN 码错误：再错 %1 次后将需要输入密码。</translation>
    </message>
    <message>
        <source>No PIN is set on this computer: sign in with your password.</source>
        <translation>本机未设置 PIN 码，请用密码登录。</translation>
    </message>
    <message>
        <source>The county cannot be reached, and this computer&apos;s copy of the sign-in is damaged: sign in when the network is back.</source>
        <translation>连不上县级平台，而且本机保存的登录记录已损坏：请在网络恢复后登录。</translation>
    </message>
</context>
<context>
    <name>QuarantinePanel</name>
    <message>
        <source>The county refused these records. Everything else went on. Send one again once the reason is fixed (for example, the county re-enabled an account), or discard it: it is then removed from this computer.</source>
        <translation>以下记录被县级平台拒收，其余记录已照常同步。原因排除后（例如县里重新启用了账号）可以重新发送；也可以丢弃，丢弃后从本机删除。</translation>
    </message>
    <message>
        <source>Record</source>
        <translation>记录</translation>
    </message>
    <message>
        <source>Case title</source>
        <translation>事件标题</translation>
    </message>
    <message>
        <source>Why the county refused it</source>
        <translation>拒收原因</translation>
    </message>
    <message>
        <source>Tries</source>
        <translation>发送次数</translation>
    </message>
    <message>
        <source>Refused at</source>
        <translation>拒收时间</translation>
    </message>
    <message>
        <source>Send again</source>
        <translation>重新发送</translation>
    </message>
    <message>
        <source>Discard…</source>
        <translation>丢弃…</translation>
    </message>
    <message>
        <source>Queued again: goes with the next sync.</source>
        <translation>已重新排队，下次同步时发送。</translation>
    </message>
    <message>
        <source>Discard a refused record</source>
        <translation>丢弃被拒收的记录</translation>
    </message>
    <message>
        <source>Discard %1?</source>
        <translation>丢弃 %1？</translation>
    </message>
    <message>
        <source>It is removed from this computer and never sent to the county. Discarding a refused report removes its whole case.</source>
        <translation>丢弃后将从本机删除，不再发送给县级平台。丢弃被拒收的上报记录会删除整个事件。</translation>
    </message>
    <message>
        <source>Discard</source>
        <translation>丢弃</translation>
    </message>
    <message>
        <source>Keep it</source>
        <translation>保留</translation>
    </message>
    <message>
        <source>Discarded.</source>
        <translation>已丢弃。</translation>
    </message>
    <message>
        <source>Quarantined records</source>
        <translation>被拒收的记录</translation>
    </message>
</context>
<context>
    <name>StepConflictBox</name>
    <message>
        <source>Steps that clash: %1</source>
        <translation>流转冲突：%1</translation>
    </message>
    <message>
        <source>The step that no longer fits</source>
        <translation>不再成立的步骤</translation>
    </message>
    <message>
        <source>Why: %1</source>
        <translation>原因：%1</translation>
    </message>
    <message>
        <source>This step stands</source>
        <translation>以此步骤为准</translation>
    </message>
    <message>
        <source>The step it clashes with</source>
        <translation>与之冲突的步骤</translation>
    </message>
    <message>
        <source>Even without the other step this one would not fit the case.</source>
        <translation>即使撤销另一步骤，这一步骤仍不符合事件当前状态。</translation>
    </message>
    <message>
        <source>(none found)</source>
        <translation>（未找到）</translation>
    </message>
    <message>
        <source>Drop the step</source>
        <translation>撤销此步骤</translation>
    </message>
</context>
<context>
    <name>SyncPage</name>
    <message>
        <source>Sync with the county platform</source>
        <extracomment>How many waiting records the page lists (the count is always exact).</extracomment>
        <translation>与县级平台同步</translation>
    </message>
    <message>
        <source>Everything you do is saved on this computer first and works without a network. When a link to the county platform exists, waiting changes go up and other people&apos;s changes come down.</source>
        <translation>所有操作先保存在本机，断网也能照常工作。连上县级平台后，待同步的变更会上传，其他人的变更会下载。</translation>
    </message>
    <message>
        <source>Sync now</source>
        <translation>立即同步</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Sign in…</source>
        <translation>登录…</translation>
    </message>
    <message>
        <source>Show cases with conflicts</source>
        <translation>查看有冲突的事件</translation>
    </message>
    <message>
        <source>Check again</source>
        <translation>重新检查</translation>
    </message>
    <message>
        <source>County server:</source>
        <translation>县级平台：</translation>
    </message>
    <message>
        <source>Signed in to the county as:</source>
        <translation>县级平台账号：</translation>
    </message>
    <message>
        <source>Link:</source>
        <translation>连接：</translation>
    </message>
    <message>
        <source>Waiting to sync:</source>
        <translation>待同步：</translation>
    </message>
    <message>
        <source>Last successful sync:</source>
        <translation>上次成功同步：</translation>
    </message>
    <message>
        <source>Last problem:</source>
        <translation>最近的问题：</translation>
    </message>
    <message>
        <source>Conflicts to settle:</source>
        <translation>待裁定的冲突：</translation>
    </message>
    <message>
        <source>Refused by the county:</source>
        <translation>被县级平台拒收：</translation>
    </message>
    <message>
        <source>This computer&apos;s code:</source>
        <translation>本机编号：</translation>
    </message>
    <message>
        <source>Database file:</source>
        <translation>数据库文件：</translation>
    </message>
    <message>
        <source>None: this is the demo township. It works offline only, on this computer, and never syncs with a county.</source>
        <translation>无：这是演示乡镇，只在本机离线使用，不与县级平台同步。</translation>
    </message>
    <message>
        <source>None configured: this computer works offline. Your IT department sets the county server (or enter it under Settings).</source>
        <translation>未配置：本机离线工作。县级平台地址由信息化管理员设置（也可在“设置”中填写）。</translation>
    </message>
    <message>
        <source>Not signed in (this computer is not enrolled)</source>
        <translation>未登录（本机尚未登记到县级平台）</translation>
    </message>
    <message>
        <source>%1; working as %2</source>
        <translation>%1；当前以 %2 身份工作</translation>
    </message>
    <message>
        <source>Offline: this computer is not enrolled with a county.</source>
        <translation>离线：本机尚未登记到县级平台。</translation>
    </message>
    <message>
        <source>Sign in again…</source>
        <translation>重新登录…</translation>
    </message>
    <message>
        <source>None</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Reading the sync state</source>
        <translation>读取同步状态</translation>
    </message>
    <message numerus="yes">
        <source>%n change(s)</source>
        <translation>
            <numerusform>%n 条变更</numerusform>
        </translation>
    </message>
    <message>
        <source>Never</source>
        <translation>从未同步</translation>
    </message>
    <message numerus="yes">
        <source>%n case(s)</source>
        <translation>
            <numerusform>%n 件</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n record(s)</source>
        <translation>
            <numerusform>%n 条记录</numerusform>
        </translation>
    </message>
    <message>
        <source>Conflicts (%1)</source>
        <translation>冲突 (%1)</translation>
    </message>
    <message>
        <source>Refused (%1)</source>
        <translation>被拒收 (%1)</translation>
    </message>
    <message>
        <source>Waiting to go (%1)</source>
        <translation>待发送 (%1)</translation>
    </message>
    <message>
        <source>History</source>
        <translation>同步记录</translation>
    </message>
    <message>
        <source>Export sync bundle…</source>
        <translation>导出同步包…</translation>
    </message>
    <message>
        <source>Import sync bundle…</source>
        <translation>导入同步包…</translation>
    </message>
    <message>
        <source>None yet</source>
        <translation>尚无</translation>
    </message>
    <message>
        <source>USB stick (sync bundle):</source>
        <translation>U盘同步包：</translation>
    </message>
    <message>
        <source>Where to write the sync bundle (a USB stick)</source>
        <translation>选择同步包的保存位置（U盘）</translation>
    </message>
    <message>
        <source>Writing the sync bundle…</source>
        <translation>正在写入同步包…</translation>
    </message>
    <message>
        <source>Written %1: %2 change(s) and %3 photo(s). Take it to the county platform, then import the answer it gives you here.</source>
        <translation>已写入 %1：%2 条变更、%3 张照片。请送到县级平台导入，再把回执包带回本机导入。</translation>
    </message>
    <message>
        <source>The county&apos;s answer (sync bundle)</source>
        <translation>县级平台的回执（同步包）</translation>
    </message>
    <message>
        <source>Sync bundles (*.bundle)</source>
        <translation>同步包 (*.bundle)</translation>
    </message>
    <message>
        <source>Importing the county&apos;s answer…</source>
        <translation>正在导入县级平台的回执…</translation>
    </message>
    <message>
        <source>That answer was imported already, or this computer has synced since: nothing more to do.</source>
        <translation>该回执已经导入过，或本机之后已联网同步：无需再做什么。</translation>
    </message>
    <message>
        <source>The county&apos;s answer is imported: %1 change(s) received by the county, %2 new from the county.</source>
        <translation>县级平台的回执已导入：县里已收到 %1 条变更，从县里新收到 %2 条。</translation>
    </message>
    <message>
        <source>The sync bundle</source>
        <translation>同步包</translation>
    </message>
    <message>
        <source>Cancelled: no bundle was written, nothing is lost.</source>
        <translation>已取消：没有写入同步包，数据没有任何丢失。</translation>
    </message>
    <message>
        <source>The bundle could not be written: is the stick full or removed? Nothing is lost; try again.</source>
        <translation>同步包写入失败：U盘是否已满或被拔出？数据没有丢失，请重试。</translation>
    </message>
    <message>
        <source>This computer has no bundle key yet: sign in once while online, then try again.</source>
        <translation>本机还没有同步包密钥：请先在联网时登录一次，然后重试。</translation>
    </message>
    <message>
        <source>The file is incomplete (the stick was removed or full while it was written). Nothing was imported.</source>
        <translation>文件不完整（写入时U盘被拔出或已满）。未导入任何内容。</translation>
    </message>
    <message>
        <source>The file has been changed since it was made. Nothing was imported.</source>
        <translation>文件在生成后被改动过。未导入任何内容。</translation>
    </message>
    <message>
        <source>This is the county&apos;s answer to another computer. Nothing was imported.</source>
        <translation>这是县级平台给另一台电脑的回执。未导入任何内容。</translation>
    </message>
    <message>
        <source>This is a bundle this computer made for the county, not the county&apos;s answer.</source>
        <translation>这是本机为县级平台生成的同步包，不是县级平台的回执。</translation>
    </message>
    <message>
        <source>This bundle comes from another county. Nothing was imported.</source>
        <translation>该同步包来自其他县。未导入任何内容。</translation>
    </message>
    <message>
        <source>This file is not a sync bundle Gridroom can read. Nothing was imported.</source>
        <translation>该文件不是网格通能读取的同步包。未导入任何内容。</translation>
    </message>
</context>
<context>
    <name>SyncWords</name>
    <message>
        <source>Synced</source>
        <translation>同步成功</translation>
    </message>
    <message>
        <source>Partly synced</source>
        <translation>部分同步</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Cannot reach the county platform: check the network and the server address.</source>
        <extracomment>What went wrong with the county, by the client&apos;s error code.</extracomment>
        <translation>无法连接县级平台：请检查网络和服务器地址。</translation>
    </message>
    <message>
        <source>The county platform did not answer in time: the link is too slow or down.</source>
        <translation>县级平台没有及时回应：网络太慢或已中断。</translation>
    </message>
    <message>
        <source>The server&apos;s certificate was not accepted: check the server address, or ask IT to set the county&apos;s CA certificate.</source>
        <translation>服务器证书未被接受：请核对服务器地址，或请信息化管理员配置县级平台的 CA 证书。</translation>
    </message>
    <message>
        <source>The answer did not come from the county platform: the network may want you to sign in to it in a browser first (a hotel or office login page), or the server address is wrong.</source>
        <translation>收到的回应不是县级平台发出的：所在网络可能需要先在浏览器中完成上网认证（如单位或宾馆的登录页面），或者服务器地址不对。</translation>
    </message>
    <message>
        <source>The network wants a sign-in first: open any web page in a browser and sign in (an office or hotel login page), then try again.</source>
        <translation>所在网络需要先在浏览器中完成上网认证：请打开任意网页并登录（如单位或宾馆的上网登录页面），然后再试。</translation>
    </message>
    <message>
        <source>The county&apos;s answers arrive damaged: something on the way changes them. Try again later, or tell IT.</source>
        <translation>县级平台的回应在途中被损坏：网络上有设备改动了数据。请稍后再试，或告知信息化管理员。</translation>
    </message>
    <message>
        <source>Not signed in to the county platform: sign in to sync.</source>
        <translation>尚未登录县级平台：登录后才能同步。</translation>
    </message>
    <message>
        <source>The county no longer accepts this computer&apos;s sign-in: sign in again.</source>
        <translation>县级平台已不再接受本机的登录：请重新登录。</translation>
    </message>
    <message>
        <source>Wrong account name or password.</source>
        <translation>账号或密码不正确。</translation>
    </message>
    <message>
        <source>This account has been disabled: ask the county&apos;s IT department.</source>
        <translation>该账号已被停用，请联系县级信息化管理员。</translation>
    </message>
    <message>
        <source>This computer was revoked by county IT: ask IT to re-enrol it.</source>
        <translation>这台电脑已被县级信息化管理员吊销，请联系信息化管理员重新登记。</translation>
    </message>
    <message>
        <source>This computer is enrolled to another township, so this account cannot sign in here.</source>
        <translation>这台电脑已登记到其他乡镇，该账号不能在此登录。</translation>
    </message>
    <message>
        <source>Too many failed sign-ins: wait a few minutes, then try again.</source>
        <translation>登录失败次数过多，请等几分钟再试。</translation>
    </message>
    <message>
        <source>This version of Gridroom is too old for the county platform: update it.</source>
        <translation>此版本的网格通过旧，县级平台已不支持：请升级。</translation>
    </message>
    <message>
        <source>The county platform has a fault; the next sync tries again.</source>
        <translation>县级平台出现故障，下次同步时会再试。</translation>
    </message>
    <message>
        <source>The county platform is busy or starting; the next sync tries again.</source>
        <translation>县级平台繁忙或正在启动，下次同步时会再试。</translation>
    </message>
    <message>
        <source>The county platform does not allow this account to do that.</source>
        <translation>县级平台不允许该账号执行此操作。</translation>
    </message>
    <message>
        <source>The county platform refused a batch as too large; it goes again in parts.</source>
        <translation>县级平台认为这批数据过大而拒收，将分批重新发送。</translation>
    </message>
    <message>
        <source>The county platform refused the request as malformed.</source>
        <translation>县级平台认为请求格式有误而拒收。</translation>
    </message>
    <message>
        <source>The record is damaged or incomplete.</source>
        <extracomment>Why the county refused one record (it waits in quarantine), by the push result&apos;s code.</extracomment>
        <translation>该记录已损坏或不完整。</translation>
    </message>
    <message>
        <source>The county does not know the account that took this step.</source>
        <translation>县级平台没有执行这一步的账号。</translation>
    </message>
    <message>
        <source>The account that took this step has been disabled at the county.</source>
        <translation>执行这一步的账号已被县级平台停用。</translation>
    </message>
    <message>
        <source>The step claims a role its account does not have at the county.</source>
        <translation>这一步所写的角色与该账号在县级平台的角色不符。</translation>
    </message>
    <message>
        <source>The account&apos;s role may not take this step.</source>
        <translation>该账号的角色不能执行这一步。</translation>
    </message>
    <message>
        <source>The account that took this step never signed in on this computer: sign in as it once.</source>
        <translation>执行这一步的账号从未在这台电脑上登录过：请用该账号登录一次。</translation>
    </message>
    <message>
        <source>The case or place lies outside this computer&apos;s township.</source>
        <translation>该事件或地点不在本机所属乡镇范围内。</translation>
    </message>
    <message>
        <source>The county has no such case: its report was not accepted.</source>
        <translation>县级平台没有这个事件：它的上报记录未被接收。</translation>
    </message>
    <message>
        <source>The grid, village or township is unknown to the county.</source>
        <translation>县级平台不认识该网格、村（社区）或乡镇。</translation>
    </message>
    <message>
        <source>The report cannot open a case (no title, or an unknown category).</source>
        <translation>该上报记录无法立案（没有标题，或分类不存在）。</translation>
    </message>
    <message>
        <source>Another record already has this record&apos;s id.</source>
        <translation>已有另一条记录使用了该记录的编号。</translation>
    </message>
    <message>
        <source>Case</source>
        <translation>事件</translation>
    </message>
    <message>
        <source>Photo</source>
        <translation>照片</translation>
    </message>
    <message>
        <source>Visit diary</source>
        <translation>走访记录</translation>
    </message>
    <message>
        <source>Patrol log</source>
        <translation>巡查记录</translation>
    </message>
    <message>
        <source>%n record(s) refused by the county</source>
        <translation>%n 条记录被县级平台拒收</translation>
    </message>
</context>
<context>
    <name>Syncer</name>
    <message>
        <source>Demo data — works on this computer only, never with the county</source>
        <extracomment>How long after the window opens the first sync starts (the window paints first). How often the progress of a running sync is read. The desktop&apos;s transport settings: a shorter backoff than ``gridroom sync`` waits, because the next background sync comes anyway and a person should learn soon that the county is away (a refused connection shows as offline in about 5 s instead of about 25 s). How long quitting waits for a running sync to stop before leaving it to die with the app. ``demo`` (synthetic data, never syncs), ``unenrolled`` (no county), ``enrolled`` the error code of the last attempt (&quot;&quot; when it succeeded or none was made) the last run in this session the person signed in offline (checked against this computer&apos;s copy) why sync cannot run at all here (a store problem), in plain words</extracomment>
        <translation>演示数据 — 只在本机使用，不连接县级平台</translation>
    </message>
    <message>
        <source>Syncing with the county…</source>
        <translation>正在与县级平台同步…</translation>
    </message>
    <message>
        <source>Sync cannot run: %1</source>
        <translation>无法同步：%1</translation>
    </message>
    <message>
        <source>Signed in offline — sign in again when the county is reachable</source>
        <translation>离线登录 — 能连上县级平台时请重新登录</translation>
    </message>
    <message>
        <source>Not signed in to the county — sign in to sync</source>
        <translation>未登录县级平台 — 登录后才能同步</translation>
    </message>
    <message>
        <source>Signed in offline — changes wait on this computer</source>
        <translation>离线登录 — 变更先保存在本机</translation>
    </message>
    <message>
        <source>Not connected to the county platform yet</source>
        <translation>尚未连接县级平台</translation>
    </message>
    <message>
        <source>Online — %1</source>
        <translation>在线 — %1</translation>
    </message>
    <message>
        <source>Offline (signed in offline) — changes wait on this computer</source>
        <translation>离线（离线登录）— 变更先保存在本机</translation>
    </message>
    <message>
        <source>Offline — cannot reach the county platform</source>
        <translation>离线 — 无法连接县级平台</translation>
    </message>
</context>
<context>
    <name>WaitingPanel</name>
    <message>
        <source>Record</source>
        <translation>记录</translation>
    </message>
    <message>
        <source>Case title</source>
        <translation>事件标题</translation>
    </message>
    <message>
        <source>Saved at</source>
        <translation>保存时间</translation>
    </message>
    <message>
        <source>Nothing waits to go: the county has everything.</source>
        <translation>没有待发送的变更：县级平台已全部收到。</translation>
    </message>
    <message numerus="yes">
        <source>%n change(s) wait to go; the oldest %1 are listed.</source>
        <translation>
            <numerusform>共 %n 条变更待发送，下面列出最早的 %1 条。</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n change(s) wait to go.</source>
        <translation>
            <numerusform>共 %n 条变更待发送。</numerusform>
        </translation>
    </message>
</context>
</TS>
