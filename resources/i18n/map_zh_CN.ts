<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>MapPage</name>
    <message>
        <source>Open cases</source>
        <extracomment>Above this many grid outlines on screen, draw without antialiasing (level of detail: a county&apos;s 800 grids zoomed out draw in about half the time; edges are too small to tell).</extracomment>
        <translation>未办结事件</translation>
    </message>
    <message>
        <source>Overdue cases</source>
        <translation>超期事件</translation>
    </message>
    <message>
        <source>Open cases per km²</source>
        <translation>每平方公里未办结事件</translation>
    </message>
    <message>
        <source>Case markers</source>
        <translation>事件标注</translation>
    </message>
    <message>
        <source>Include closed cases</source>
        <translation>含已办结事件</translation>
    </message>
    <message>
        <source>Whole map</source>
        <translation>全图</translation>
    </message>
    <message>
        <source>Case list filters</source>
        <translation>按案件列表筛选</translation>
    </message>
    <message>
        <source>Show on the map only the cases the case list&apos;s filters select</source>
        <translation>地图上只显示案件列表筛选条件选中的案件</translation>
    </message>
    <message>
        <source>List cases in view</source>
        <translation>列出视野内案件</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Save the current view as PNG or PDF</source>
        <translation>把当前视图保存为 PNG 或 PDF</translation>
    </message>
    <message>
        <source>Find a grid, village or code</source>
        <translation>查找网格、村社区或编码</translation>
    </message>
    <message>
        <source>Colour grids by</source>
        <translation>网格着色</translation>
    </message>
    <message>
        <source>Drag to pan, wheel or +/− to zoom. Click a grid to list its cases, a marker to open its case, a cluster to zoom in.</source>
        <translation>拖动平移，滚轮或 +/− 缩放。点击网格查看其事件，点击标注打开事件，点击聚合点放大。</translation>
    </message>
    <message>
        <source>Reading the map</source>
        <translation>读取地图</translation>
    </message>
    <message>
        <source>Grid and village outlines are synthetic (合成) demo data.</source>
        <translation>网格和村社边界为合成演示数据。</translation>
    </message>
    <message>
        <source>This store has no outlines yet: IT imports the county&apos;s boundaries.</source>
        <translation>本库尚无边界数据：由信息技术人员导入县级边界。</translation>
    </message>
    <message>
        <source>Base map: %1</source>
        <translation>底图：%1</translation>
    </message>
    <message>
        <source>The offline base map cannot be used: %1</source>
        <translation>离线底图无法使用：%1</translation>
    </message>
    <message>
        <source>%1 open, %2 overdue</source>
        <translation>未办结 %1 件，超期 %2 件</translation>
    </message>
    <message>
        <source>Open cases per grid</source>
        <translation>各网格未办结事件</translation>
    </message>
    <message>
        <source>Overdue cases per grid</source>
        <translation>各网格超期事件</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>%1 grids · %2 open cases · %3 overdue</source>
        <translation>%1 个网格 · 未办结 %2 件 · 超期 %3 件</translation>
    </message>
    <message>
        <source>Boundaries</source>
        <translation>边界</translation>
    </message>
    <message>
        <source>Closed cases</source>
        <translation>已办结案件</translation>
    </message>
    <message>
        <source>Visits and patrols</source>
        <translation>走访和巡查</translation>
    </message>
    <message>
        <source>Organisations</source>
        <translation>社会组织</translation>
    </message>
    <message>
        <source>Layers</source>
        <translation>图层</translation>
    </message>
    <message>
        <source>Nothing of this kind has a place yet</source>
        <translation>这类数据还没有位置信息</translation>
    </message>
    <message>
        <source>No grid, village or township matches “%1”.</source>
        <translation>没有与“%1”匹配的网格、村社区或乡镇街道。</translation>
    </message>
    <message>
        <source>Export the map</source>
        <translation>导出地图</translation>
    </message>
    <message>
        <source>map</source>
        <translation>地图</translation>
    </message>
    <message>
        <source>PNG image (*.png);;PDF document (*.pdf)</source>
        <translation>PNG 图片 (*.png);;PDF 文档 (*.pdf)</translation>
    </message>
    <message>
        <source>Exporting the map</source>
        <translation>导出地图</translation>
    </message>
    <message>
        <source>Map</source>
        <translation>地图</translation>
    </message>
    <message>
        <source>Show on map</source>
        <translation>在地图上显示</translation>
    </message>
</context>
<context>
    <name>PointField</name>
    <message>
        <source>longitude,latitude, e.g. 119.1234,29.0567</source>
        <translation>经度,纬度，如 119.1234,29.0567</translation>
    </message>
    <message>
        <source>Pick on map…</source>
        <translation>在地图上选点…</translation>
    </message>
    <message>
        <source>The location looks swapped: longitude (about 118–119 here) comes first, then latitude (about 28–29).</source>
        <translation>事发位置的经纬度似乎写反了：经度（本地约 118–119）在前，纬度（约 28–29）在后。</translation>
    </message>
    <message>
        <source>The location is not in China; check the numbers.</source>
        <translation>事发位置不在中国境内，请核对数字。</translation>
    </message>
    <message>
        <source>Write the location as two numbers, longitude then latitude, e.g. 119.1234,29.0567.</source>
        <translation>事发位置请写成两个数：经度在前，纬度在后，如 119.1234,29.0567。</translation>
    </message>
    <message>
        <source>The location %1 is outside %2.</source>
        <translation>事发位置 %1 不在%2范围内。</translation>
    </message>
</context>
<context>
    <name>PointPicker</name>
    <message>
        <source>Pick the place on the map</source>
        <translation>在地图上选择事发位置</translation>
    </message>
    <message>
        <source>Click where it happened.</source>
        <translation>点击事发地点。</translation>
    </message>
</context>
</TS>
